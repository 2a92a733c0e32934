/**
 * Coding rate R(Z), class-conditional rate Rc(Z|P), rate reduction dR and their gradients, with label, soft and label-free (instance) memberships; pure ND4J, Cholesky-based.
 */
package org.umm4j.crr;
