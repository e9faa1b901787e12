/* blur_fields.c: the sample recipe's numeric settings by name, so that a training command can
 * change one (unsharp-train --sample KEY=VALUE) and the run's record says which. */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "blur.h"

#define F(name) {#name, offsetof(blur_config, name)}
static const struct {
    const char *name;
    size_t off;
} fields[] = {
    F(scale_max), F(p_sharp), F(p_soften), F(soften_sigma_max), F(p_partial), F(p_mask_ellipse),
    F(partial_sharp_min), F(p_motion), F(p_shake), F(p_disc), F(gauss_sigma_min), F(gauss_sigma_max),
    F(disc_radius_min), F(disc_radius_max), F(motion_len_min), F(motion_len_max), F(shake_len_min),
    F(shake_len_max), F(p_linear), F(p_noise), F(noise_sigma_max), F(p_poisson), F(p_lowlight),
    F(lowlight_sigma_max), F(p_sharpen), F(sharpen_amount_max), F(sharpen_sigma_min),
    F(sharpen_sigma_max), F(p_haze), F(haze_contrast_min), F(p_exposure), F(gain_min), F(gain_max),
    F(gamma_min), F(gamma_max), F(p_jpeg), F(texture_min), F(flat_weight), F(texture_rel), F(focus_both),
    F(mild_lo), F(mild_hi), F(mild_target), F(shake_spread), F(shake_dwell),
    F(sharp_fraction_tile), F(blurred_fraction_tile),
};
#undef F

int blur_config_set(blur_config *cfg, const char *assignment)
{
    if (!cfg || !assignment) return BLUR_ERR_INVALID;
    const char *eq = strchr(assignment, '=');
    if (!eq || eq == assignment) return BLUR_ERR_INVALID;
    size_t len = (size_t)(eq - assignment);
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        if (strlen(fields[i].name) != len || strncmp(fields[i].name, assignment, len) != 0) continue;
        char *end;
        errno = 0;
        float v = strtof(eq + 1, &end);
        if (end == eq + 1 || *end || errno || !isfinite(v)) return BLUR_ERR_INVALID;
        blur_config c = *cfg;
        *(float *)((char *)&c + fields[i].off) = v;
        if (blur_config_check(&c) != BLUR_OK) return BLUR_ERR_INVALID;
        *cfg = c;
        return BLUR_OK;
    }
    return BLUR_ERR_INVALID;
}

const char *blur_config_field_name(int i)
{
    return i >= 0 && (size_t)i < sizeof fields / sizeof fields[0] ? fields[i].name : NULL;
}
