/* unsharp.h: the public interface of libunsharp-engine, its two layers in one include:
 *   unsharp/core.h   the network core: versions, statuses and messages, tensors, the model,
 *                    training (docs/library.md walks through it);
 *   unsharp/photo.h  the photo layer, built on the core's public calls only: decoding photos
 *                    to the working size, judging them. */
#ifndef UNSHARP_H
#define UNSHARP_H

#include "unsharp/core.h"
#include "unsharp/photo.h"

#endif
