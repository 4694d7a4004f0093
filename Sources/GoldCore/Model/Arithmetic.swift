/// Arithmetic on numbers from outside that never traps.
public enum Arithmetic {
    /// ⌈a / b⌉ without the overflow of `(a + b - 1) / b`; nil when `b` is 0.
    public static func ceilDivide(_ a: UInt64, _ b: UInt64) -> UInt64? {
        guard b > 0 else { return nil }
        let (quotient, remainder) = a.quotientAndRemainder(dividingBy: b)
        return quotient + (remainder == 0 ? 0 : 1)
    }
}
