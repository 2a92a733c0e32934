package org.umm4j.ssl;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Loads the numpy reference cases and runs central finite-difference gradient checks. */
final class SslTestSupport {
    private SslTestSupport() {
    }

    /** One case of ssl-reference.json. */
    record RefCase(String name, String objective, Map<String, Double> params, double loss, List<INDArray> views,
                   List<INDArray> targets, Map<String, INDArray> extras) {
        ObjectiveInput input(DataType dt) {
            Map<String, INDArray> ex = new LinkedHashMap<>();
            extras.forEach((k, v) -> ex.put(k, v.castTo(dt)));
            return new ObjectiveInput(views.stream().map(v -> v.castTo(dt)).toList(),
                    targets.stream().map(v -> v.castTo(dt)).toList(), ex);
        }

        Objective create() {
            return Objectives.create(objective, params);
        }

        @Override
        public String toString() {
            return name;
        }
    }

    static List<RefCase> referenceCases() {
        try (InputStream in = SslTestSupport.class.getResourceAsStream("/ssl/ssl-reference.json")) {
            JsonNode root = new ObjectMapper().readTree(in);
            List<RefCase> out = new ArrayList<>();
            for (JsonNode c : root.get("cases")) {
                Map<String, Double> params = new LinkedHashMap<>();
                Iterator<Map.Entry<String, JsonNode>> it = c.get("params").fields();
                while (it.hasNext()) {
                    Map.Entry<String, JsonNode> e = it.next();
                    params.put(e.getKey(), e.getValue().asDouble());
                }
                List<INDArray> views = new ArrayList<>();
                c.get("views").forEach(v -> views.add(array(v)));
                List<INDArray> targets = new ArrayList<>();
                c.get("targets").forEach(v -> targets.add(array(v)));
                Map<String, INDArray> extras = new LinkedHashMap<>();
                Iterator<Map.Entry<String, JsonNode>> ex = c.get("extras").fields();
                while (ex.hasNext()) {
                    Map.Entry<String, JsonNode> e = ex.next();
                    extras.put(e.getKey(), array(e.getValue()));
                }
                out.add(new RefCase(c.get("name").asText(), c.get("objective").asText(), params,
                        c.get("loss").asDouble(), views, targets, extras));
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static RefCase referenceCase(String name) {
        return referenceCases().stream().filter(c -> c.name().equals(name)).findFirst().orElseThrow();
    }

    /** Nested JSON lists to a DOUBLE array of the same shape. */
    static INDArray array(JsonNode node) {
        List<Long> shape = new ArrayList<>();
        JsonNode n = node;
        while (n.isArray()) {
            shape.add((long) n.size());
            n = n.get(0);
        }
        List<Double> flat = new ArrayList<>();
        flatten(node, flat);
        double[] data = flat.stream().mapToDouble(Double::doubleValue).toArray();
        return Nd4j.create(data, shape.stream().mapToLong(Long::longValue).toArray(), DataType.DOUBLE);
    }

    private static void flatten(JsonNode node, List<Double> out) {
        if (node.isArray()) {
            node.forEach(c -> flatten(c, out));
        } else {
            out.add(node.asDouble());
        }
    }

    /** For SwAV: adds the Sinkhorn codes of the current input as fixed "codes1".."codes{a}" extras. */
    static ObjectiveInput fixSwavCodes(SwAV swav, ObjectiveInput in) {
        Map<String, Double> hp = swav.hyperParameters();
        INDArray c = in.requireExtra(SwAV.PROTOTYPES);
        ObjectiveInput out = in;
        for (int i = 0; i < hp.get("assignViews").intValue(); i++) {
            INDArray z = in.view(i);
            INDArray s = Tensors.normalizeRows(z, Tensors.rowNorms(z)).mmul(c);
            out = out.withExtra("codes" + (i + 1), SwAV.sinkhorn(s, hp.get("epsilon"), hp.get("iterations").intValue()));
        }
        return out;
    }

    /**
     * Central finite differences (step h) of the loss along probe directions of every view and of the named extras,
     * compared with the analytical directional derivatives {@code <g, d>} by the norm-wise relative error over the
     * probes. Probes per tensor: {@code coordinates} single coordinates (drawn at random, seeded) and 3 dense Gaussian
     * directions, which see every coordinate of the gradient at once. A full per-coordinate sweep costs two losses
     * per element; on the shared 2-core machine the probes keep the suite fast and still fail on any wrong entry.
     */
    static void checkGradients(Objective o, ObjectiveInput in, double h, double tol, String... parameterExtras) {
        LossAndGradients r = o.compute(in);
        assertEquals(in.views().size(), r.gradients().length, "one gradient per view");
        java.util.Random rnd = new java.util.Random(20240817);
        for (int v = 0; v < in.views().size(); v++) {
            INDArray x = in.view(v);
            assertTrue(java.util.Arrays.equals(x.shape(), r.gradient(v).shape()), "gradient shape of view " + v);
            probe(o, in, x, r.gradient(v), h, tol, rnd, o.name() + " view " + v);
        }
        for (String name : parameterExtras) {
            INDArray x = in.requireExtra(name);
            probe(o, in, x, r.parameterGradient(name), h, tol, rnd, o.name() + " parameter " + name);
        }
    }

    private static void probe(Objective o, ObjectiveInput in, INDArray x, INDArray g, double h, double tol,
                              java.util.Random rnd, String what) {
        int coordinates = 4;
        int dense = 3;
        double[] analytic = new double[coordinates + dense];
        double[] numeric = new double[coordinates + dense];
        INDArray orig = x.dup();
        for (int k = 0; k < coordinates + dense; k++) {
            INDArray d = Nd4j.zeros(DataType.DOUBLE, x.shape());
            if (k < coordinates) {
                d.reshape(d.length()).putScalar(rnd.nextInt((int) x.length()), 1.0);
            } else {
                double[] gauss = new double[(int) x.length()];
                for (int i = 0; i < gauss.length; i++) {
                    gauss[i] = rnd.nextGaussian();
                }
                d = Nd4j.create(gauss, x.shape(), DataType.DOUBLE);
            }
            x.addi(d.mul(h));                    // x is the very array inside the input: compute sees the change
            double plus = o.compute(in).loss();
            x.assign(orig).subi(d.mul(h));
            double minus = o.compute(in).loss();
            x.assign(orig);
            numeric[k] = (plus - minus) / (2 * h);
            analytic[k] = g.castTo(DataType.DOUBLE).mul(d).sumNumber().doubleValue();
        }
        assertRelative(Nd4j.createFromArray(analytic), Nd4j.createFromArray(numeric), tol, what);
    }

    static void assertRelative(INDArray analytic, INDArray numeric, double tol, String what) {
        double denom = numeric.norm2Number().doubleValue();
        double err = analytic.castTo(DataType.DOUBLE).sub(numeric).norm2Number().doubleValue() / Math.max(denom, 1e-12);
        assertTrue(err < tol, what + ": relative gradient error " + err + " >= " + tol + "\nanalytic " + analytic
                + "\nnumeric " + numeric);
    }
}
