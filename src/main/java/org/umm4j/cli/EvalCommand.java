package org.umm4j.cli;

import org.umm4j.backend.Umm4jBackend;
import org.umm4j.data.ImageDataset;
import org.umm4j.eval.LayerwiseEvaluator;
import org.umm4j.eval.LayerwiseResult;
import org.umm4j.eval.LinearProbe;
import org.umm4j.nn.Taps;
import org.umm4j.report.LayerwiseReport;
import org.umm4j.train.Checkpoint;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code umm4j eval --run DIR}: the layer-wise evaluation of every checkpoint of a run (k-NN, linear probe and dR
 * of the early and last taps, Pearson r between the curves), written to {@code DIR/eval/} as {@code layerwise.csv},
 * {@code pearson.csv}, {@code accuracy.png}, {@code dr.png} and {@code index.html}.
 */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Layer-wise evaluation of a run's checkpoints: k-NN, linear probe and dR of the early and last "
                + "taps, Pearson correlation between dR and accuracy; writes RUN/eval/.")
final class EvalCommand implements Callable<Integer> {
    @Option(names = "--run", required = true, description = "The run directory (written by umm4j pretrain).")
    Path run;

    @Option(names = "--early-tap", defaultValue = Taps.EARLY_DEFAULT,
            description = "Early tap: stem, stage1, stage2, stage3 or stage4 (default: ${DEFAULT-VALUE}).")
    String earlyTap;

    @Option(names = "--probe-epochs", defaultValue = "100",
            description = "Linear-probe epochs (the paper uses 500; default: ${DEFAULT-VALUE}).")
    int probeEpochs;

    @Option(names = "--dr-subset", defaultValue = "512",
            description = "Training images in the fixed dR subset (default: ${DEFAULT-VALUE}).")
    int drSubset;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the dR subset and the probe (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--out", description = "Output folder (default: RUN/eval).")
    Path out;

    @Override
    public Integer call() throws Exception {
        try {
            String tap = earlyTap.toLowerCase(Locale.ROOT);
            if (!Taps.SPLITTABLE.contains(tap)) {
                throw new IllegalArgumentException("--early-tap '" + earlyTap + "' is not one of " + Taps.SPLITTABLE);
            }
            if (probeEpochs < 1) {
                throw new IllegalArgumentException("--probe-epochs must be at least 1, got " + probeEpochs);
            }
            RunInputs in = RunInputs.open(run);
            List<Checkpoint> ckpts = LayerwiseEvaluator.checkpointsOf(run);
            Umm4jBackend.init();
            ImageDataset train = in.train();
            ImageDataset test = in.test();
            LayerwiseResult r = LayerwiseEvaluator.builder().setTrain(train).setTest(test)
                    .setNormalize(in.normalize(train)).optEarlyTap(tap).optDrSubset(drSubset).optSeed(seed)
                    .optProbe(LinearProbe.defaults(seed).withEpochs(probeEpochs)).build().evaluate(ckpts);
            Path dir = out != null ? out : run.resolve("eval");
            LayerwiseReport.write(r, dir, run.toAbsolutePath().normalize().getFileName().toString());
            System.out.println(r.toTable().toCsv().stripTrailing());
            for (String t : r.taps()) {
                System.out.printf(Locale.ROOT, "pearson %s: dR_instance vs probe_top1 %s, dR_label vs probe_top1 %s%n",
                        t, fmt(r.pearson(t, "dR_instance", "probe_top1")), fmt(r.pearson(t, "dR_label", "probe_top1")));
            }
            System.out.println("wrote " + dir.resolve(LayerwiseReport.INDEX));
            return 0;
        } catch (IllegalArgumentException e) {
            System.err.println("umm4j eval: " + e.getMessage());
            return 2;
        }
    }

    static String fmt(double v) {
        return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.3f", v);
    }
}
