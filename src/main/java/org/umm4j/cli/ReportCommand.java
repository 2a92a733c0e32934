package org.umm4j.cli;

import org.umm4j.report.RunReport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code umm4j report --run DIR}: writes {@code DIR/report/index.html} with the training loss curve, the label-free
 * monitor curve (if logged) and the layer-wise plots of {@code umm4j eval} (if present); see {@link RunReport}.
 */
@Command(name = "report", mixinStandardHelpOptions = true,
        description = "Write RUN/report/index.html: loss curve, dR monitor curve and layer-wise plots if present.")
final class ReportCommand implements Callable<Integer> {
    @Option(names = "--run", required = true, description = "The run directory.")
    Path run;

    @Override
    public Integer call() throws Exception {
        try {
            RunInputs.open(run);
            System.out.println("wrote " + RunReport.write(run));
            return 0;
        } catch (IllegalArgumentException e) {
            System.err.println("umm4j report: " + e.getMessage());
            return 2;
        }
    }
}
