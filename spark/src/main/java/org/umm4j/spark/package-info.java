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
 *   <li>{@link org.umm4j.spark.SparkUmmFineTuner}: distributed UMM fine-tuning on that loop: f_l's parameters
 *       (BatchNorm running statistics included) and Adam's moments are broadcast, each worker runs K local UMM steps
 *       ({@link org.umm4j.spark.UmmWorker}: early features, hypergradient, Adam with the global step count) on its
 *       own batches ({@link org.umm4j.spark.UmmBatch}), and the driver averages; with one worker it is the
 *       single-machine run.</li>
 *   <li>{@link org.umm4j.spark.HadoopImages}: CIFAR-format records read on the executors from any Hadoop path
 *       ({@code binaryRecords}).</li>
 *   <li>{@link org.umm4j.spark.SparkPretrain} and {@link org.umm4j.spark.SparkUmm}: the command lines
 *       ({@code spark-submit --class}); {@code SparkUmm} takes {@code umm4j umm}'s flags
 *       ({@link org.umm4j.cli.UmmOptions}).</li>
 * </ul>
 *
 * <p>A whole-batch loss is a per-worker batch loss on Spark: no negatives or batch statistics cross workers (see
 * the module README).
 */
package org.umm4j.spark;
