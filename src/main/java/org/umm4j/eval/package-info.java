/**
 * Evaluation of frozen features: linear probe, k-NN, layer-wise evaluation over checkpoints and the label-free overfitting monitor.
 */
package org.umm4j.eval;
