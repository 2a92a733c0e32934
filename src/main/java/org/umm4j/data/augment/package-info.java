/**
 * View transforms (random resized crop, flip, colour jitter, grayscale, blur, solarisation, normalisation, multi-crop), per-method recipes and a prefetching multi-view iterator.
 */
package org.umm4j.data.augment;
