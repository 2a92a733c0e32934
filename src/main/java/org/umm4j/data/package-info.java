/**
 * Image datasets: CIFAR-10/100 and STL-10 binary readers, image folders (also inside .tar.gz), MNIST idx, a seeded synthetic dataset (the embedded default), download with SHA-256 verification, class-balanced and long-tailed subsets.
 */
package org.umm4j.data;
