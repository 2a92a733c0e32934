package org.umm4j.export;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.umm4j.nn.ResNetConfig;
import org.umm4j.nn.Stem;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/** Helpers of the export tests: tiny configs, seeded inputs, BN perturbation, fixtures, python3. */
final class ExportTestSupport {
    private ExportTestSupport() {
    }

    static ResNetConfig config(int depth, Stem stem, double width, int hw, long seed) {
        return ResNetConfig.builder().setDepth(depth).setStem(stem).setInput(3, hw, hw).optWidthMultiplier(width)
                .optSeed(seed).build();
    }

    /** Uniform(-1, 1) FLOAT array from a java.util.Random seed. */
    static INDArray random(long seed, long... shape) {
        Random r = new Random(seed);
        float[] d = new float[(int) Arrays.stream(shape).reduce(1, (a, b) -> a * b)];
        for (int i = 0; i < d.length; i++) {
            d[i] = (float) (2 * r.nextDouble() - 1);
        }
        return Nd4j.create(d, shape, 'c');
    }

    /**
     * Gives every BatchNorm non-trivial gamma, beta, running mean and log10(std) in [-0.4, 0.4] (variances
     * 0.16..6.3, where float32 log-std values are mostly NOT recoverable from the variance), so round trips and
     * reference forwards exercise every parameter.
     */
    static void perturbBatchNorm(ComputationGraph g, long seed) {
        Random r = new Random(seed);
        for (Layer l : g.getLayers()) {
            if (!(l.conf().getLayer() instanceof org.deeplearning4j.nn.conf.layers.BatchNormalization)) {
                continue;
            }
            for (Map.Entry<String, INDArray> e : l.paramTable().entrySet()) {
                INDArray p = e.getValue();
                for (long i = 0; i < p.length(); i++) {
                    double v = switch (e.getKey()) {
                        case "gamma" -> 0.5 + r.nextDouble();
                        case "beta", "mean" -> 0.4 * (r.nextDouble() - 0.5);
                        case "log10stdev" -> 0.8 * (r.nextDouble() - 0.5);
                        case "var" -> 0.2 + 2 * r.nextDouble();
                        default -> throw new IllegalStateException(e.getKey());
                    };
                    p.putScalar(i, v);
                }
            }
        }
    }

    /** Reads a fixture {@code key dim dim ...} list, in file order. */
    static Map<String, long[]> fixture(String name) throws IOException {
        Map<String, long[]> out = new LinkedHashMap<>();
        try (InputStream in = ExportTestSupport.class.getResourceAsStream("/export/" + name)) {
            if (in == null) {
                throw new IOException("missing test resource /export/" + name);
            }
            for (String line : new String(in.readAllBytes(), StandardCharsets.US_ASCII).split("\n")) {
                if (line.isBlank()) {
                    continue;
                }
                String[] t = line.trim().split(" ");
                out.put(t[0], Arrays.stream(t, 1, t.length).mapToLong(Long::parseLong).toArray());
            }
        }
        return out;
    }

    static Path resource(String name) {
        try {
            return Path.of(ExportTestSupport.class.getResource("/export/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** @return whether {@code python3 -c "import numpy"} succeeds within 60 s */
    static boolean pythonWithNumpy() {
        try {
            Process p = new ProcessBuilder("python3", "-c", "import numpy").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Runs python3 with the arguments and returns its stdout; fails on a non-zero exit. */
    static String python(String... args) throws IOException, InterruptedException {
        String[] cmd = new String[args.length + 1];
        cmd[0] = "python3";
        System.arraycopy(args, 0, cmd, 1, args.length);
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("python3 " + String.join(" ", args) + " failed");
        }
        return out;
    }
}
