package spool.clients;

/** A scenario failure; its message is the cell's one-line reason. */
final class Fail extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Fail(String message) {
        super(message);
    }

    Fail(String message, Throwable cause) {
        super(message + ": " + describe(cause), cause);
    }

    /** The innermost cause's class and message, as the reason a cell shows. */
    static String describe(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getClass().getSimpleName() + ": " + root.getMessage();
    }
}
