package dev.cnnzoo.api;

/**
 * Where a network was published.
 *
 * @param authors as the paper lists them, e.g. "K. He, X. Zhang, S. Ren, J. Sun"
 * @param arxiv   the arXiv id ("1512.03385"), or null
 * @param doi     the DOI, or null
 */
public record Paper(String authors, String title, int year, String venue, String arxiv, String doi) {
    public static Paper arxiv(String authors, String title, int year, String venue, String arxivId) {
        return new Paper(authors, title, year, venue, arxivId, null);
    }

    public static Paper doi(String authors, String title, int year, String venue, String doi) {
        return new Paper(authors, title, year, venue, null, doi);
    }

    /** A link to the paper: arXiv's abstract page, else the DOI resolver. */
    public String url() {
        if (arxiv != null) {
            return "https://arxiv.org/abs/" + arxiv;
        }
        return doi == null ? null : "https://doi.org/" + doi;
    }

    /** The fields, the link and the citation as a map (for JSON). */
    public java.util.Map<String, Object> describe() {
        java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("authors", authors);
        m.put("title", title);
        m.put("year", year);
        m.put("venue", venue);
        m.put("arxiv", arxiv);
        m.put("doi", doi);
        m.put("url", url());
        m.put("citation", citation());
        return m;
    }

    /**
     * "He et al. 2015, Deep residual learning for image recognition"; "Zeiler and Fergus 2013, ..."
     * for two authors; surnames are each author's last word.
     */
    public String citation() {
        String[] names = java.util.Arrays.stream(authors.split(",")).map(String::trim).filter(a -> !a.isEmpty())
                .map(a -> a.substring(a.lastIndexOf(' ') + 1)).toArray(String[]::new);
        String lead = switch (names.length) {
            case 0 -> "";
            case 1 -> names[0];
            case 2 -> names[0] + " and " + names[1];
            default -> names[0] + " et al.";
        };
        return lead + " " + year + ", " + title;
    }
}
