/**
 * Backend selection and the fast CPU path: {@link org.umm4j.backend.Umm4jBackend} turns on DL4J's oneDNN layer helpers (the one place where this is done).
 */
package org.umm4j.backend;
