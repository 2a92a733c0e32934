/**
 * umm4j on Apache Spark (a separate module, {@code org.umm4j:umm4j-spark}; the library itself has no Spark
 * dependency).
 *
 * <ul>
 *   <li>{@link org.umm4j.spark.SparkSslPretrainer}: distributed SSL pretraining of a backbone + projector +
 *       {@code LossLayer(SslLossFunction)} graph through DL4J's {@code SparkComputationGraph} and
 *       {@code ParameterAveragingTrainingMaster}, for the objectives that train through {@code fit()}
 *       ({@code simclr, barlow, vicreg, wmse, superinfo}). Images travel as uint8 {@link org.umm4j.spark.ImageRecord}s;
 *       the two views are augmented on the workers ({@link org.umm4j.spark.PairBatchFunction}).</li>
 *   <li>{@link org.umm4j.spark.SparkParameterAveraging}: the project's own averaging loop on Spark core (broadcast
 *       parameters, K local steps per partition with a serialisable {@link org.umm4j.spark.LocalStep},
 *       {@code treeAggregate} of parameter sums, mean on the driver), for loops that are not a {@code fit()}
 *       (UMM).</li>
 *   <li>{@link org.umm4j.spark.SparkPretrain}: the command line ({@code spark-submit --class}).</li>
 * </ul>
 *
 * <p>A whole-batch loss is a per-worker batch loss on Spark: no negatives or batch statistics cross workers (see
 * the module README).
 */
package org.umm4j.spark;
