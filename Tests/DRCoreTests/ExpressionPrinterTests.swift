import DRCore
import Testing

@Suite("Expressions and templates print as source text that parses back to the same value")
struct ExpressionPrinterTests {
    static func reparsed(_ source: String) throws -> (Expression, Expression) {
        let expression = try ExpressionParser.parse(source)
        return (expression, try ExpressionParser.parse(expression.sourceText))
    }

    @Test("a chain of 100 && prints flat, within the parser's nesting limit (description brackets it 100 deep)")
    func longChainsPrintFlat() throws {
        let source = (0..<100).map { "inputs.a\($0)" }.joined(separator: " && ")
        let (expression, again) = try Self.reparsed(source)
        #expect(again == expression)
        #expect(expression.sourceText == source)
        #expect(throws: ExpressionSyntaxError.self) { try ExpressionParser.parse(expression.description) }
    }

    @Test("parentheses appear exactly where precedence needs them")
    func parenthesesOnlyWhereNeeded() throws {
        for (source, printed) in [
            ("(inputs.a == run.id)", "inputs.a == run.id"),
            ("inputs.a || (inputs.b || inputs.c)", "inputs.a || (inputs.b || inputs.c)"),
            ("(inputs.a || inputs.b) && inputs.c", "(inputs.a || inputs.b) && inputs.c"),
            ("inputs.a || inputs.b && inputs.c", "inputs.a || inputs.b && inputs.c"),
            ("!(inputs.a == 1) == !inputs.b", "!(inputs.a == 1) == !inputs.b"),
            ("(inputs.a == 1) == true", "(inputs.a == 1) == true"),
            ("length(('x'))>=-1.5e3", "length('x') >= -1500.0"),
        ] {
            let (expression, again) = try Self.reparsed(source)
            #expect(again == expression, "\(source)")
            #expect(expression.sourceText == printed)
        }
    }

    @Test("numeric reference segments stay segments, not a number")
    func numericSegments() throws {
        let (expression, again) = try Self.reparsed("steps.x.outputs.items.0 . 1 .-2")
        #expect(expression == .reference(["steps", "x", "outputs", "items", "0", "1", "-2"]))
        #expect(again == expression)
    }

    @Test("an expression written tightly near the length limit prints compactly and parses again")
    func nearTheLengthLimit() throws {
        // 4,095 characters without spaces; the readable form (spaces around ==, &&) would be longer.
        var terms: [String] = []
        while (terms + ["inputs.a==\"it's\""]).joined(separator: "&&").count < 4070 { terms.append("inputs.a==\"it's\"") }
        var source = terms.joined(separator: "&&")
        source += "&&" + String(repeating: "1", count: 4095 - source.count - 2)
        #expect(source.count == 4095)
        let (expression, again) = try Self.reparsed(source)
        #expect(again == expression)
        #expect(expression.sourceText.unicodeScalars.count <= ExpressionParser.maximumLength)
        // Inside a template the padding spaces are dropped for the same reason.
        let template = Template(parts: [.expression(expression)])
        #expect(try TemplateParser.parse(template.sourceText!) == template)
    }

    @Test("text holding ${{, possible only in code, prints as a string literal with the same value")
    func textWithTemplateOpening() throws {
        let template = Template(parts: [.text("a$"), .text("{{ b"), .expression(.reference(["run", "id"])), .text("$")])
        let source = try #require(template.sourceText)
        let context = EvaluationContext(run: ["id": .string("r-1")])
        #expect(try TemplateParser.parse(source).evaluate(context) == .string("a${{ br-1$"))
        #expect(try template.evaluate(context) == .string("a${{ br-1$"))
    }
}
