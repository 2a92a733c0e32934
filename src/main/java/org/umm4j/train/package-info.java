/**
 * The pretraining loop: optimisers, learning-rate schedules, atomic checkpoints, run manifests and metrics logs.
 */
package org.umm4j.train;
