import DRCore
import Testing

/// The expression language and templates, as the loader parses them.
extension RunbookLoaderTests {
    static let context = EvaluationContext(
        inputs: ["count": .int(3), "to": .string("us-west-2"), "dry": .bool(false), "zones": .list([.string("a"), .string("b")])],
        steps: ["promote": .init(status: "succeeded", outputs: ["endpoint": .string("db.example"), "lag": .double(1.5)])],
        run: ["id": .string("r-1"), "mode": .string("drill")])

    @Test("|| binds looser than &&, which binds looser than comparisons; ! binds tightest")
    func precedence() throws {
        #expect(try ExpressionParser.parse("true || false && false")
            == .binary(.or, .literal(.bool(true)), .binary(.and, .literal(.bool(false)), .literal(.bool(false)))))
        #expect(try ExpressionParser.parse("inputs.count > 1 && !inputs.dry")
            == .binary(.and, .binary(.greater, .reference(["inputs", "count"]), .literal(.int(1))), .not(.reference(["inputs", "dry"]))))
        #expect(try ExpressionParser.parse("!true == false") == .binary(.equal, .not(.literal(.bool(true))), .literal(.bool(false))))
        #expect(try ExpressionParser.parse("(true || false) && false").evaluate(Self.context) == .bool(false))
        #expect(try ExpressionParser.parse("true || false && false").evaluate(Self.context) == .bool(true))
    }

    @Test("expressions evaluate against inputs, steps and run",
          arguments: [
              ("inputs.count >= 3", RunValue.bool(true)),
              ("inputs.to == 'us-west-2' && run.mode != \"prod\"", .bool(true)),
              ("steps.promote.outputs.endpoint", .string("db.example")),
              ("steps.promote.status == 'succeeded'", .bool(true)),
              ("steps.promote.outputs.lag < 2.5", .bool(true)),
              ("contains(inputs.zones, 'b')", .bool(true)),
              ("length(inputs.zones) == 2", .bool(true)),
              ("format('{0}-{1}', run.id, upper(inputs.to))", .string("r-1-US-WEST-2")),
              ("duration('5m') > duration('90s')", .bool(true)),
              ("-2 < 1", .bool(true)),
              ("null == null", .bool(true)),
              ("'it\\'s' == \"it's\"", .bool(true)),
              ("\"tab\\there\"", .string("tab\there")),
              ("startsWith(inputs.to, 'us-') && endsWith(lower('ABC'), 'bc')", .bool(true)),
          ])
    func expressionEvaluates(_ source: String, _ expected: RunValue) throws {
        #expect(try ExpressionParser.parse(source).evaluate(Self.context) == expected)
    }

    @Test("syntax errors give the column within the expression and what was expected",
          arguments: [
              ("inputs.count >> 1", 15, "found '>', expected a value"),
              ("inputs.count = 1", 14, "use == to compare"),
              ("(true", 6, "expected ')' to close the '(' at column 1"),
              ("true false", 6, "found 'false', expected an operator"),
              ("shout(inputs.to)", 1, "found unknown function 'shout'"),
              ("length(1, 2)", 12, "found 2 arguments to length, expected 1"),
              ("inputs.", 8, "expected a name after '.'"),
              ("steps.promote", 14, "expected steps.<id>.status or steps.<id>.outputs.<name>"),
              ("steps.promote.result", 15, "found 'steps.promote.result'"),
              ("secrets.token", 1, "expected a reference starting with inputs., steps. or run."),
              ("'abc", 1, "found a string without its closing '"),
              ("'a\\q'", 3, "found the escape '\\q'"),
              ("5m > 1", 2, "write durations as duration('5m…')"),
              ("", 1, "found the end of the expression, expected a value"),
              ("a == b == c", 1, "expected a reference"),
              ("1 == 2 == 3", 8, "comparisons do not chain"),
          ])
    func syntaxErrorIsLocated(_ source: String, _ column: Int, _ message: String) {
        let error = #expect(throws: ExpressionSyntaxError.self) { try ExpressionParser.parse(source) }
        #expect(error?.column == column, "\(String(describing: error))")
        #expect(error?.message.contains(message) == true, "\(String(describing: error))")
    }

    @Test("hostile nesting and length end in an error, not a stack overflow")
    func nestingAndLengthAreBounded() throws {
        let deep = String(repeating: "(", count: 200) + "true" + String(repeating: ")", count: 200)
        let deepError = #expect(throws: ExpressionSyntaxError.self) { try ExpressionParser.parse(deep) }
        #expect(deepError?.message.contains("nested more than 64 levels") == true)
        let negations = String(repeating: "!", count: 1000) + "true"
        #expect(throws: ExpressionSyntaxError.self) { try ExpressionParser.parse(negations) }
        let long = String(repeating: "(", count: 100_000)
        let longError = #expect(throws: ExpressionSyntaxError.self) { try ExpressionParser.parse(long) }
        #expect(longError?.message.contains("expected at most 4096") == true)
        let fine = String(repeating: "(", count: 30) + "true" + String(repeating: ")", count: 30)
        #expect(try ExpressionParser.parse(fine) == .literal(.bool(true)))
    }

    @Test("a string literal prints as the lexer reads it back, quotes and escapes included (fuzz finding)")
    func stringLiteralsRoundTrip() throws {
        for text in ["'", "'\u{653}", "a\\\u{301}", "it's", "back\\slash", "line\nbreak\ttab\rcr", "crlf\r\n", "\"double\"", ""] {
            let expression = Expression.literal(.string(text))
            #expect(try ExpressionParser.parse(expression.description) == expression, "\(expression.description)")
        }
    }

    @Test("nested format calls cannot blow up memory: a result over 64 KiB is an error (fuzz finding)")
    func formatResultIsBounded() throws {
        var source = "'xxxxxxxxxxxxxxxx'"
        for _ in 0..<20 { source = "format('{0}{0}', \(source))" }
        let error = #expect(throws: ExpressionError.self) { try ExpressionParser.parse(source).evaluate(Self.context) }
        #expect(error?.message.contains("longer than 65536 bytes") == true, "\(String(describing: error))")
        #expect(try ExpressionParser.parse("format('{0}-{1}', 'a', 2)").evaluate(Self.context) == .string("a-2"))
    }

    @Test("a template that is one expression keeps its type; mixed text becomes a string")
    func templatesKeepTypes() throws {
        #expect(try TemplateParser.parse("${{ inputs.count }}").evaluate(Self.context) == .int(3))
        #expect(try TemplateParser.parse("${{ inputs.zones }}").evaluate(Self.context) == .list([.string("a"), .string("b")]))
        #expect(try TemplateParser.parse("n=${{ inputs.count }}!").evaluate(Self.context) == .string("n=3!"))
        #expect(try TemplateParser.parse("plain text") == Template(parts: [.text("plain text")]))
        let parsed = try TemplateParser.parse("a ${{ inputs.to }} b ${{ run.id }}")
        #expect(parsed.parts == [.text("a "), .expression(.reference(["inputs", "to"])), .text(" b "), .expression(.reference(["run", "id"]))])
        #expect(parsed.references == [["inputs", "to"], ["run", "id"]])
        // "}}" inside a quoted string does not end the expression.
        #expect(try TemplateParser.parse("${{ format('}}{0}', 'x') }}").evaluate(Self.context) == .string("}}x"))
    }

    @Test("template errors are located from the template's first character",
          arguments: [
              ("echo ${{ inputs.to", 6, "without its closing '}}'"),
              ("x ${{   }}", 3, "found an empty '${{ }}'"),
              ("ab ${{ inputs.to == }}", 21, "found the end of the expression"),
              ("${{ 'open }}", 5, "found a string without its closing '"),
          ])
    func templateErrorIsLocated(_ source: String, _ column: Int, _ message: String) {
        let error = #expect(throws: ExpressionSyntaxError.self) { try TemplateParser.parse(source) }
        #expect(error?.column == column, "\(String(describing: error))")
        #expect(error?.message.contains(message) == true, "\(String(describing: error))")
    }

    @Test("unknown actions are answered with the closest known names")
    func catalogSuggestsCloseMatches() {
        #expect(ActionCatalog.builtIns.closeMatches(to: "exce") == ["exec"])
        #expect(ActionCatalog.builtIns.closeMatches(to: "aprove") == ["approve"])
        #expect(ActionCatalog.builtIns.closeMatches(to: "terraform.apply").isEmpty)
        #expect(ActionCatalog.builtIns.action(named: "wait")?.requiredParameters == ["duration"])
    }
}
