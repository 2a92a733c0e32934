/**
 * Coding rate R(Z), class-conditional rate Rc(Z|P), rate reduction dR = R - Rc and their closed-form
 * gradients (MCR^2, Yu et al. NeurIPS 2020; the label-free monitor of UMM, arXiv 2410.00772), with label,
 * soft and label-free (instance) memberships; pure ND4J plus a small Cholesky, no graphs.
 *
 * <pre>
 *   R(Z)    = 1/2 logdet(I_d + d/(m eps^2) Z^T Z)                                   Z: m x d
 *   Rc(Z|P) = sum_j tr(P_j)/(2m) logdet(I_d + d/(tr(P_j) eps^2) Z^T P_j Z)           P: m x k, P_j = diag(P[:, j])
 *   dR      = R - Rc
 * </pre>
 * Entry points: {@link org.umm4j.crr.CodingRate} (values and gradients, immutable, holds eps),
 * {@link org.umm4j.crr.Memberships} (one-hot, instance, top-k instance),
 * {@link org.umm4j.crr.SparseMembership} (column-compressed memberships for the Sylvester fast path),
 * {@link org.umm4j.crr.Cholesky} (log-determinants and solves without explicit inverses).
 * Tested against the float64 fixture {@code crr-reference.json} (generator in its "doc" field) and against
 * central finite differences.
 */
package org.umm4j.crr;
