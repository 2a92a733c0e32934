/**
 * UMM fine-tuning (arXiv 2410.00772): CPA density, Jensen-Shannon divergence between early- and last-layer densities, hypergradient strategies and the bi-level fine-tuner.
 */
package org.umm4j.umm;
