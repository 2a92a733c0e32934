package org.umm4j.ssl;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;
import java.util.List;

/** Shared checks and differentiable building blocks (row normalisation, cosine) for the objectives. */
final class Tensors {
    private Tensors() {
    }

    static String shape(INDArray a) {
        return Arrays.toString(a.shape());
    }

    /** Requires a floating-point [N, D] matrix. */
    static void requireMatrix(String name, INDArray a) {
        if (a == null) {
            throw new IllegalArgumentException(name + " must not be null");
        }
        if (a.rank() != 2) {
            throw new IllegalArgumentException(name + " must be a matrix [N, D], got shape " + shape(a));
        }
        if (!a.dataType().isFPType()) {
            throw new IllegalArgumentException(name + " must be FLOAT or DOUBLE, got " + a.dataType());
        }
    }

    static void requireSameShape(String n1, INDArray a, String n2, INDArray b) {
        if (!Arrays.equals(a.shape(), b.shape())) {
            throw new IllegalArgumentException(n1 + " shape " + shape(a) + " and " + n2 + " shape " + shape(b)
                    + " must be equal");
        }
        if (a.dataType() != b.dataType()) {
            throw new IllegalArgumentException(n1 + " is " + a.dataType() + " but " + n2 + " is " + b.dataType()
                    + "; all inputs must share one data type");
        }
    }

    static void requireViews(String objective, List<INDArray> views, int count) {
        if (views.size() != count) {
            throw new IllegalArgumentException(objective + " needs exactly " + count + " views, got " + views.size());
        }
    }

    static void requireTargets(String objective, List<INDArray> targets, int count) {
        if (targets.size() != count) {
            throw new IllegalArgumentException(objective + " needs exactly " + count
                    + " stop-gradient targets, got " + targets.size());
        }
    }

    /** Two [N, D] views of the same shape, N at least {@code minRows}. */
    static void requirePair(INDArray z1, INDArray z2, int minRows) {
        requireMatrix("z1", z1);
        requireMatrix("z2", z2);
        requireSameShape("z1", z1, "z2", z2);
        if (z1.rows() < minRows) {
            throw new IllegalArgumentException("batch size N must be at least " + minRows + ", got shape " + shape(z1));
        }
    }

    static void requirePositive(String field, double v) {
        if (!(v > 0) || Double.isInfinite(v)) {
            throw new IllegalArgumentException(field + " must be positive and finite, got " + v);
        }
    }

    static void requireNonNegative(String field, double v) {
        if (!(v >= 0) || Double.isInfinite(v)) {
            throw new IllegalArgumentException(field + " must be non-negative and finite, got " + v);
        }
    }

    /** @return the row L2 norms as an [N, 1] column */
    static INDArray rowNorms(INDArray z) {
        return z.norm2(1).reshape(z.rows(), 1);
    }

    /** @return z with unit rows */
    static INDArray normalizeRows(INDArray z, INDArray norms) {
        return z.divColumnVector(norms);
    }

    /**
     * Backward of u = z / |z| (row-wise): dz = (du - u (du . u)) / |z|.
     */
    static INDArray normalizeBackward(INDArray du, INDArray u, INDArray norms) {
        INDArray dot = du.mul(u).sum(1).reshape(u.rows(), 1);
        return du.sub(u.mulColumnVector(dot)).diviColumnVector(norms);
    }

    /** @return an identity matrix of the given type */
    static INDArray eye(long n, DataType dt) {
        return Nd4j.eye(n).castTo(dt);
    }

    /**
     * Mean cosine term and its gradient with respect to p: returns {@code [sum_n cos(p_n, t_n), d(w * sum cos)/dp]}
     * as a scalar array and a gradient (t is stop-gradient).
     */
    static CosTerm cosine(INDArray p, INDArray t, double weight) {
        INDArray pn = rowNorms(p);
        INDArray pu = normalizeRows(p, pn);
        INDArray tu = normalizeRows(t, rowNorms(t));
        double sumCos = pu.mul(tu).sumNumber().doubleValue();
        INDArray grad = normalizeBackward(tu.mul(weight), pu, pn);
        return new CosTerm(sumCos, grad);
    }

    record CosTerm(double sumCos, INDArray gradP) {
    }
}
