package dev.cnnzoo.api;

import java.util.Comparator;

/**
 * The order people read model names in: runs of digits compare as numbers, so resnet18 < resnet34 <
 * resnet101 < resnet152 and vgg11 < vgg16-bn < vgg19, where string order would put resnet101 first.
 * Models sort by family, then by id, both so.
 */
public final class NaturalOrder {
    private static final Comparator<String> NAMES = NaturalOrder::compareNames;
    private static final Comparator<ModelInfo> MODELS = Comparator.comparing(ModelInfo::family, NAMES).thenComparing(ModelInfo::id, NAMES);

    private NaturalOrder() {
    }

    /** Names with digit runs compared as numbers, case-insensitively; ties broken by plain string order. */
    public static Comparator<String> names() {
        return NAMES;
    }

    /** Models by family, then id, each in {@link #names()} order. */
    public static Comparator<ModelInfo> models() {
        return MODELS;
    }

    private static int compareNames(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            char ca = a.charAt(i);
            char cb = b.charAt(j);
            if (Character.isDigit(ca) && Character.isDigit(cb)) {
                int endA = digitsEnd(a, i);
                int endB = digitsEnd(b, j);
                int c = compareNumbers(a.substring(i, endA), b.substring(j, endB));
                if (c != 0) {
                    return c;
                }
                i = endA;
                j = endB;
                continue;
            }
            int c = Character.compare(Character.toLowerCase(ca), Character.toLowerCase(cb));
            if (c != 0) {
                return c;
            }
            i++;
            j++;
        }
        int c = Integer.compare(a.length() - i, b.length() - j);
        return c != 0 ? c : a.compareTo(b);
    }

    private static int digitsEnd(String s, int from) {
        int k = from;
        while (k < s.length() && Character.isDigit(s.charAt(k))) {
            k++;
        }
        return k;
    }

    /** Digit strings by value, of any length (leading zeros ignored; fewer zeros first on a tie). */
    private static int compareNumbers(String x, String y) {
        String a = x.replaceFirst("^0+(?=.)", "");
        String b = y.replaceFirst("^0+(?=.)", "");
        int c = a.length() != b.length() ? Integer.compare(a.length(), b.length()) : a.compareTo(b);
        return c != 0 ? c : Integer.compare(x.length(), y.length());
    }
}
