package org.umm4j.cli;

import org.umm4j.report.RunCurves;
import org.umm4j.report.RunReport;
import org.umm4j.train.RunDirectory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code umm4j monitor --run DIR}: prints the label-free dR monitor curve of a run ({@code epoch,dR_monitor} from
 * {@code metrics.csv}) as CSV on stdout, the peak row marked {@code ,peak}.
 */
@Command(name = "monitor", mixinStandardHelpOptions = true,
        description = "Print the dR_monitor curve (epoch,dR) of a run from metrics.csv and mark its peak.")
final class MonitorCommand implements Callable<Integer> {
    @Option(names = "--run", required = true, description = "The run directory.")
    Path run;

    @Override
    public Integer call() {
        try {
            if (run == null || !Files.isDirectory(run) || !RunDirectory.exists(run)) {
                throw new IllegalArgumentException("--run " + run + " is not a run directory (no "
                        + RunDirectory.MANIFEST + ")");
            }
            double[][] c = RunCurves.column(run.resolve(RunDirectory.METRICS), RunReport.MONITOR_COLUMN);
            if (c[0].length == 0) {
                throw new IllegalArgumentException("run " + run + " logged no " + RunReport.MONITOR_COLUMN
                        + " values (train with the dR monitor on)");
            }
            int peak = RunReport.argMax(c[1]);
            System.out.println("epoch," + RunReport.MONITOR_COLUMN + ",mark");
            for (int i = 0; i < c[0].length; i++) {
                System.out.printf(Locale.ROOT, "%d,%.6f,%s%n", (int) c[0][i], c[1][i], i == peak ? "peak" : "");
            }
            return 0;
        } catch (IllegalArgumentException e) {
            System.err.println("umm4j monitor: " + e.getMessage());
            return 2;
        }
    }
}
