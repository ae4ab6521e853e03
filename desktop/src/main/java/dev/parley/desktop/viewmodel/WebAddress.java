package dev.parley.desktop.viewmodel;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;

/** A base URL as typed in Settings (a Parley server's, a model provider's): what is wrong with it, in words. */
final class WebAddress {
    private WebAddress() {
    }

    /**
     * The first problem with {@code url}, or {@code null} when it is an http(s) address with a host and no query
     * or fragment.
     *
     * @param whose   what the address is of, as the messages say it ("The server's address")
     * @param example an address of that kind, for the messages
     * @param missing what to say when nothing is typed
     */
    static String problem(String url, String whose, String example, String missing) {
        String u = url == null ? "" : url.strip();
        if (u.isEmpty()) {
            return missing;
        }
        try {
            URI uri = new URI(u);
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if (!scheme.equals("http") && !scheme.equals("https")) {
                return whose + " must start with http:// or https://.";
            }
            if (uri.getHost() == null || uri.getHost().isEmpty()) {
                return whose + " needs a host name, such as " + example + ".";
            }
            if (uri.getQuery() != null || uri.getFragment() != null) {
                return whose + " cannot have a ? or # part.";
            }
        } catch (URISyntaxException e) {
            return "That is not a web address: " + e.getReason() + ".";
        }
        return null;
    }

    /** {@code url} stripped, without a trailing slash. */
    static String normalized(String url) {
        String u = url.strip();
        return u.endsWith("/") ? u.substring(0, u.length() - 1) : u;
    }
}
