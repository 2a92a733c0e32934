package org.umm4j.export;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.umm4j.nn.Backbone;
import org.umm4j.nn.MlpHeadConfig;
import org.umm4j.nn.ResNetConfig;
import org.umm4j.nn.Stem;
import org.umm4j.nn.Taps;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The export read by NumPy itself ({@code src/test/resources/export/npz_check.py}): keys, dtypes, shapes and values
 * as NumPy sees them, each entry byte-identical to NumPy's own {@code .npy} writer, and an independent float64
 * NumPy implementation of torchvision's eval-mode forward pass on the exported weights that reproduces DL4J's
 * outputs. The networks run in DOUBLE with parameters rounded to float32 first, so that the float32 file holds
 * them exactly and the comparison can be tight (1e-9 relative): any layout or convention error (kernel order,
 * transposition, padding, stride placement, BN variance) would show up as an O(1) difference. Skipped when
 * python3 with numpy is not available.
 */
class TorchStateDictNumpyTest {

    @BeforeAll
    static void needsNumpy() {
        Assumptions.assumeTrue(ExportTestSupport.pythonWithNumpy(), "python3 with numpy is not available");
    }

    @Test
    void cifarResNet18WithProjectorIsReadAndReproducedByNumpy(@TempDir Path dir) throws Exception {
        ResNetConfig cfg = doubled(ExportTestSupport.config(18, Stem.CIFAR, 0.0625, 8, 21));
        MlpHeadConfig head = MlpHeadConfig.builder().setName("projector").setInputSize(cfg.featureSize())
                .optHiddenSizes(8).setOutputSize(4).build();
        check(dir, Backbone.create(cfg, new Sgd(0.1), head), "cifar", 8, "projector");
    }

    @Test
    void imagenetResNet50IsReadAndReproducedByNumpy(@TempDir Path dir) throws Exception {
        check(dir, Backbone.create(doubled(ExportTestSupport.config(50, Stem.IMAGENET, 0.0625, 32, 22))), "imagenet", 32,
                null);
    }

    private static ResNetConfig doubled(ResNetConfig c) {
        return new ResNetConfig(c.depth(), c.stem(), c.widthMultiplier(), c.inputChannels(), c.height(), c.width(),
                c.seed(), DataType.DOUBLE);
    }

    private static void check(Path dir, Backbone b, String stem, int hw, String head) throws Exception {
        ExportTestSupport.perturbBatchNorm(b.graph(), 5);
        INDArray p = b.graph().params();
        p.assign(p.castTo(DataType.FLOAT).castTo(DataType.DOUBLE));
        // and make each BN variance (10^l)^2 a float32 value too, so the file holds exactly what DL4J uses
        for (org.deeplearning4j.nn.api.Layer l : b.graph().getLayers()) {
            INDArray log = l.paramTable().get("log10stdev");
            if (log != null) {
                INDArray v = BnVariance.variance(log).castTo(DataType.FLOAT).castTo(DataType.DOUBLE);
                log.assign(Transforms.log(v, 10.0, true).muli(0.5));
            }
        }
        Path file = dir.resolve("state.npz");
        TorchStateDict.write(b, file, true);
        INDArray x = ExportTestSupport.random(9, 3, 3, hw, hw).castTo(DataType.DOUBLE);
        Path input = dir.resolve("input.npz");
        Npz.write(input, Map.of("x", NpyArray.ofFloats(x)));
        List<String> args = new ArrayList<>(List.of(ExportTestSupport.resource("npz_check.py").toString(),
                file.toString(), input.toString(), stem));
        if (head != null) {
            args.add(head);
        }
        JsonNode out = new ObjectMapper().readTree(ExportTestSupport.python(args.toArray(String[]::new)));

        Map<String, NpyArray> sd = TorchStateDict.of(b, true);
        List<String> numpyKeys = new ArrayList<>();
        out.get("keys").fieldNames().forEachRemaining(numpyKeys::add);
        assertEquals(new ArrayList<>(sd.keySet()), numpyKeys, "numpy sees the same keys in the same order");
        for (Map.Entry<String, NpyArray> e : sd.entrySet()) {
            String k = e.getKey();
            JsonNode t = out.get("keys").get(k);
            boolean counter = k.endsWith(TorchStateDict.NUM_BATCHES_TRACKED);
            assertEquals(counter ? "int64" : "float32", t.get(0).asText(), k);
            long[] shape = new long[t.get(1).size()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = t.get(1).get(i).asLong();
            }
            assertArrayEquals(e.getValue().shape(), shape, k);
            double first = out.get("values").get(k).asDouble();
            assertEquals(counter ? 0.0 : e.getValue().toFloats()[0], first, 0.0, k);
            assertTrue(out.get("npy_identical").get(k).asBoolean(), k + ": same bytes as numpy's writer");
        }

        INDArray pool = b.features(x, Taps.POOL).get(Taps.POOL);
        assertClose(pool, out.get("pool"), "pool");
        if (head != null) {
            assertClose(b.output(x), out.get("head"), head);
        }
    }

    private static void assertClose(INDArray java, JsonNode numpy, String what) {
        assertEquals(java.size(0), numpy.size(), what + " rows");
        double maxAbs = 0;
        for (int i = 0; i < numpy.size(); i++) {
            Iterator<JsonNode> row = numpy.get(i).elements();
            int j = 0;
            while (row.hasNext()) {
                double ref = row.next().asDouble();
                maxAbs = Math.max(maxAbs, Math.abs(ref));
                assertEquals(ref, java.getDouble(i, j), 1e-9 * Math.max(1, Math.abs(ref)), what + "[" + i + ", " + j + "]");
                j++;
            }
            assertEquals(java.size(1), j, what + " columns");
        }
        assertTrue(maxAbs > 1e-3, what + " is not trivially zero: " + Arrays.toString(java.shape()));
    }
}
