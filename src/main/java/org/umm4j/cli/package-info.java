/**
 * The {@code umm4j} command line (picocli): pretrain, umm, eval, monitor, report, demo.
 */
package org.umm4j.cli;
