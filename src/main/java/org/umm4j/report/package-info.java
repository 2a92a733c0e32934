/**
 * Run reports: CSV tables, PNG plots and an HTML page.
 */
package org.umm4j.report;
