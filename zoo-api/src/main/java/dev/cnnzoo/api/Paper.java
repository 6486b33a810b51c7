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

    /** "He et al. 2015, Deep residual learning for image recognition". */
    public String citation() {
        String first = authors.split(",")[0].trim();
        String lead = authors.contains(",") ? first + " et al." : first;
        return lead + " " + year + ", " + title;
    }
}
