/* registry.c: the table of layer kinds, looked up by the name used in architecture text. */
#include <string.h>
#include "../model.h"

extern const unsharp_layer_kind unsharp__input_kind, unsharp__conv_kind, unsharp__bias_kind, unsharp__relu_kind,
    unsharp__lrelu_kind, unsharp__maxpool_kind, unsharp__avgpool_kind, unsharp__gmean_kind, unsharp__gmax_kind,
    unsharp__gvar_kind, unsharp__concat_kind, unsharp__dense_kind, unsharp__dropout_kind, unsharp__sigmoid_ce_kind,
    unsharp__softmax_ce_kind, unsharp__lcn_kind;

static const unsharp_layer_kind *const kinds[] = {
    &unsharp__input_kind, &unsharp__conv_kind, &unsharp__bias_kind, &unsharp__relu_kind, &unsharp__lrelu_kind,
    &unsharp__maxpool_kind, &unsharp__avgpool_kind, &unsharp__gmean_kind, &unsharp__gmax_kind, &unsharp__gvar_kind,
    &unsharp__concat_kind, &unsharp__dense_kind, &unsharp__dropout_kind, &unsharp__sigmoid_ce_kind,
    &unsharp__softmax_ce_kind, &unsharp__lcn_kind,
};

const unsharp_layer_kind *unsharp__layer_kind(const char *name)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kinds[i]->name, name) == 0) return kinds[i];
    return NULL;
}
