/**
 * The {@code umm4j} command line (picocli): {@code demo}, {@code pretrain}, {@code umm}, {@code eval},
 * {@code report}, {@code monitor}, {@code timing}, {@code knn-eval}, {@code export} and {@code info}, with the shared
 * {@link org.umm4j.cli.DatasetOptions} and {@link org.umm4j.cli.BackboneOptions} flags that every run records in its
 * manifest, so that later commands rebuild the data and the network from a run directory. Results go to stdout,
 * logs to SLF4J; bad flags exit with code 2 and a message that names the flag and the valid values.
 */
package org.umm4j.cli;
