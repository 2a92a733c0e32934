/**
 * Self-supervised objectives (one class each, returning the loss and dL/dz per view) and the methods that compose backbone, heads, objective and an optional EMA target.
 */
package org.umm4j.ssl;
