/**
 * Backbones (ResNet-18/50 as DL4J ComputationGraphs with CIFAR and ImageNet stems and a width multiplier), named feature taps, projection and prediction heads, and the split of a backbone into a frozen early part and a trainable last part.
 */
package org.umm4j.nn;
