/// Checks a precondition of an MLCore operation and stops with `message` when it does not hold.
///
/// Swift's `precondition` drops its message in optimised builds (only "precondition failure" is
/// printed), and every build here is optimised; shape errors must name the op and the shapes, so
/// MLCore uses `fatalError`, whose message is kept. The condition is checked in every build.
@inlinable @inline(__always)
public func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
                    file: StaticString = #fileID, line: UInt = #line) {
    if !condition() { fatalError(message(), file: file, line: line) }
}
