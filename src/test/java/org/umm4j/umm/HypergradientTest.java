package org.umm4j.umm;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Quadratic bi-level problems whose hypergradients are known in closed form:
 * L_in = 1/2 t'At + t'C f - a't,  L_out = 1/2 t'Bt - b't + 1/2 f'Ef + t'F f.
 */
class HypergradientTest {
    private static final int N = 5;
    private static final int M = 3;

    private static INDArray spd(long seed, int n, double shift) {
        INDArray q = randn(seed, n, n);
        return q.mmul(q.transpose()).divi(n).addi(Nd4j.eye(n).castTo(DataType.DOUBLE).muli(shift));
    }

    private static INDArray randn(long seed, long... shape) {
        Random r = new Random(seed);
        INDArray a = Nd4j.create(DataType.DOUBLE, shape);
        for (long i = 0; i < a.length(); i++) {
            a.putScalar(i, r.nextGaussian());
        }
        return a;
    }

    private final INDArray a = spd(1, N, 0.5);
    private final INDArray b = spd(2, N, 0.5);
    private final INDArray c = randn(3, N, M);
    private final INDArray e = spd(4, M, 0.5);
    private final INDArray f = randn(5, N, M);
    private final INDArray va = randn(6, N, 1);
    private final INDArray vb = randn(7, N, 1);

    private final BilevelProblem quadratic = new BilevelProblem() {
        @Override
        public INDArray innerGradient(INDArray t, INDArray phi) {
            return a.mmul(t).addi(c.mmul(phi)).subi(va);
        }

        @Override
        public INDArray outerGradient(INDArray t, INDArray phi) {
            return b.mmul(t).subi(vb).addi(f.mmul(phi));
        }

        @Override
        public INDArray innerGradientPhi(INDArray t, INDArray phi) {
            return c.transpose().mmul(t);
        }

        @Override
        public INDArray outerGradientPhi(INDArray t, INDArray phi) {
            return e.mmul(phi).addi(f.transpose().mmul(t));
        }
    };

    private final INDArray theta = randn(8, N, 1);
    private final INDArray phi = randn(9, M, 1);

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(Hypergradient.Difference.class)
    void unrolledEqualsTheDerivativeThroughOneInnerStep(Hypergradient.Difference difference) {
        double eta = 0.1;
        Hypergradient.Directions d = new UnrolledHypergradient(eta, 0.01, difference).compute(quadratic, theta, phi);
        // closed form: (I - eta A) grad L_out(theta - eta grad L_in(theta))
        INDArray thetaPrime = theta.sub(quadratic.innerGradient(theta, phi).mul(eta));
        INDArray want = Nd4j.eye(N).castTo(DataType.DOUBLE).subi(a.mul(eta)).mmul(quadratic.outerGradient(thetaPrime, phi));
        assertArrayEquals(want.data().asDouble(), d.theta().data().asDouble(), 1e-9);
        assertNull(d.phi());
        assertEquals(difference == Hypergradient.Difference.FORWARD ? 3 : 4, d.gradientEvaluations());
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(Hypergradient.Difference.class)
    void neumannEqualsTheTruncatedSeries(Hypergradient.Difference difference) {
        double alpha = 0.2;
        int k = 5;
        Hypergradient.Directions d = new NeumannHypergradient(alpha, k, 0.01, difference).compute(quadratic, theta, phi);
        INDArray v = quadratic.outerGradient(theta, phi);
        INDArray step = Nd4j.eye(N).castTo(DataType.DOUBLE).subi(a.mul(alpha));
        INDArray cur = v.dup();
        INDArray sum = v.dup();
        for (int j = 0; j < k; j++) {
            cur = step.mmul(cur);
            sum.addi(cur);
        }
        INDArray want = quadratic.outerGradientPhi(theta, phi).subi(c.transpose().mmul(sum.mul(alpha)));
        assertArrayEquals(want.data().asDouble(), d.phi().data().asDouble(), 1e-9);
        assertArrayEquals(quadratic.innerGradient(theta, phi).data().asDouble(), d.theta().data().asDouble(), 1e-15);
        assertEquals(difference == Hypergradient.Difference.FORWARD ? 5 + k : 5 + 2 * k, d.gradientEvaluations());
    }

    /** L_in = sum theta_i^4 / 4: H = diag(3 theta^2), third derivative 6 theta, so the schemes' errors differ. */
    private static final BilevelProblem QUARTIC = new BilevelProblem() {
        @Override
        public INDArray innerGradient(INDArray t, INDArray p) {
            return t.mul(t).muli(t);
        }

        @Override
        public INDArray outerGradient(INDArray t, INDArray p) {
            return t.dup();
        }
    };

    @Test
    void forwardDifferenceIsFirstOrderAndCentralSecondOrderOnANonQuadraticLoss() {
        INDArray t = randn(21, N, 1);
        INDArray v = randn(22, N, 1);
        INDArray exact = t.mul(t).muli(3).muli(v);
        INDArray g = QUARTIC.innerGradient(t, null);
        double[] fwd = new double[2];
        double[] cen = new double[2];
        double[] rs = {1e-2, 5e-3};
        for (int i = 0; i < 2; i++) {
            fwd[i] = Hypergradient.hessianVectorProductForward(QUARTIC, t, null, v, rs[i], g).subi(exact).norm2Number()
                    .doubleValue();
            cen[i] = Hypergradient.hessianVectorProduct(QUARTIC, t, null, v, rs[i]).subi(exact).norm2Number()
                    .doubleValue();
        }
        double scale = exact.norm2Number().doubleValue();
        assertTrue(fwd[0] > 1e-6 * scale && fwd[0] < 0.05 * scale, "forward error " + fwd[0] + " vs |Hv| " + scale);
        assertEquals(2.0, fwd[0] / fwd[1], 0.05, "halving r halves the forward error");
        assertEquals(4.0, cen[0] / cen[1], 0.05, "halving r quarters the central error");
        assertTrue(cen[0] < fwd[0] / 10, "central is the more accurate scheme");
        assertEquals(0, Hypergradient.hessianVectorProductForward(QUARTIC, t, null, v.mul(0), 0.01, g)
                .norm2Number().doubleValue());
    }

    @Test
    void neumannConvergesToTheImplicitHypergradientAtTheInnerOptimum() {
        // theta*(phi) = A^-1 (a - C phi); total derivative of L_out(theta*(phi), phi) by central differences in phi
        INDArray thetaStar = solve(a, va.sub(c.mmul(phi)));
        // largest eigenvalue of A by power iteration; alpha = 1/lmax makes the series converge
        INDArray x = Nd4j.ones(DataType.DOUBLE, N, 1);
        double lmax = 0;
        for (int it = 0; it < 200; it++) {
            INDArray y = a.mmul(x);
            lmax = y.norm2Number().doubleValue() / x.norm2Number().doubleValue();
            x = y.divi(y.norm2Number());
        }
        Hypergradient.Directions d = new NeumannHypergradient(1.0 / lmax, 400, 0.01)
                .compute(quadratic, thetaStar, phi);
        double h = 1e-5;
        for (int i = 0; i < M; i++) {
            INDArray pp = phi.dup();
            INDArray pm = phi.dup();
            pp.putScalar(i, pp.getDouble(i) + h);
            pm.putScalar(i, pm.getDouble(i) - h);
            double fd = (outerLoss(solve(a, va.sub(c.mmul(pp))), pp) - outerLoss(solve(a, va.sub(c.mmul(pm))), pm)) / (2 * h);
            assertEquals(fd, d.phi().getDouble(i), 1e-5 * (1 + Math.abs(fd)), "phi component " + i);
        }
    }

    private double outerLoss(INDArray t, INDArray p) {
        return 0.5 * t.transpose().mmul(b).mmul(t).getDouble(0) - vb.transpose().mmul(t).getDouble(0)
                + 0.5 * p.transpose().mmul(e).mmul(p).getDouble(0) + t.transpose().mmul(f).mmul(p).getDouble(0);
    }

    /** Solves A x = y by Cholesky (no explicit inverse). */
    private static INDArray solve(INDArray m, INDArray y) {
        int n = (int) m.rows();
        double[] l = SmallLinalg.cholesky(m.dup('c').data().asDouble(), n);
        return Nd4j.create(SmallLinalg.choleskySolve(l, n, y.dup('c').data().asDouble()), new long[]{n, 1}, 'c');
    }

    @Test
    void byNameAndValidation() {
        assertEquals("unrolled", Hypergradient.byName("UNROLLED", 0.1).name());
        assertEquals("neumann", Hypergradient.byName("neumann", 0.1).name());
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> Hypergradient.byName("dart", 0.1));
        assertTrue(ex.getMessage().contains("unrolled, neumann"));
        assertThrows(IllegalArgumentException.class, () -> new UnrolledHypergradient(0, 0.01));
        assertEquals(Hypergradient.Difference.FORWARD,
                ((UnrolledHypergradient) Hypergradient.byName("unrolled", 0.1)).difference(), "forward is the default");
        assertEquals(Hypergradient.Difference.CENTRAL, Hypergradient.Difference.parse(" Central "));
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> Hypergradient.Difference.parse("backward"));
        assertTrue(bad.getMessage().contains("forward or central"), bad.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new UnrolledHypergradient(0.1, 0.01, null));
        assertThrows(IllegalArgumentException.class,
                () -> new NeumannHypergradient(0.1, 5, 0.01).compute(quadratic, theta, Nd4j.empty(DataType.DOUBLE)));
    }
}
