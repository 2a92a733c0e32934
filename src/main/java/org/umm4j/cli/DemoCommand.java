package org.umm4j.cli;

import picocli.CommandLine.Command;

import java.util.concurrent.Callable;

/** {@code umm4j demo}: filled in as the pipeline lands. */
@Command(name = "demo", mixinStandardHelpOptions = true, description = "End-to-end demo.")
final class DemoCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        return 0;
    }
}
