/**
 * Small file utilities shared by the trainer, checkpoints and reports: atomic writes (temporary file in
 * the same directory, then an atomic rename), so that a crash never leaves a half-written result.
 */
package org.umm4j.io;
