#if canImport(Glibc)
    @preconcurrency import Glibc  // `stdout` is a C global; only setvbuf touches it, once, before anything prints.
#endif

/// The process's standard output.
public enum StandardOutput {
    /// One line at a time, also into a pipe or a file (`| tee`, `> log`): a watched run shows each step as it happens,
    /// and an error on stderr never overtakes the line printed before it. Call first thing in `main`.
    public static func lineBuffered() {
        setvbuf(stdout, nil, _IOLBF, 0)
    }
}
