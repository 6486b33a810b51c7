package dev.cnnzoo.api;

/**
 * The error rates a paper reports for a network, in percent; either may be null.
 *
 * @param protocol what the figures were measured on, e.g. "ILSVRC-2012 val, single crop"
 */
public record ReportedError(Double top1, Double top5, String protocol) {
}
