import DRCore

/// `RunbookRenderer`'s promise, on whatever runbook the loader accepts: the rendered text loads
/// back (with the limits of text drctl stored itself: aliases may expand past 1 MiB) as an equal
/// runbook — source and step locations aside — and renders to the same bytes again.
enum RenderFuzzTarget {
    static let target = FuzzTarget(name: "render") { bytes in
        guard let runbook = try? RunbookLoader.parse(bytes: bytes, path: "fuzz.yaml", catalog: ActionCatalogs.full) else { return }
        let text = RunbookRenderer.render(runbook)
        let reparsed: Runbook
        do throws(RunbookValidationError) {
            reparsed = try RunbookLoader.parse(text: text, path: "rendered.yaml", catalog: ActionCatalogs.full, limits: .stored)
        } catch {
            require(false, "the rendered runbook does not load: \(error)\n--- rendered:\n\(text)")
            return
        }
        require(withoutOrigin(reparsed) == withoutOrigin(runbook), "the rendered runbook loads as another runbook\n--- rendered:\n\(text)")
        require(RunbookRenderer.render(reparsed) == text, "rendering the reloaded runbook gives other bytes\n--- rendered:\n\(text)")
    }

    static func withoutOrigin(_ runbook: Runbook) -> Runbook {
        var copy = runbook
        copy.source = RunbookSource(path: "", digest: "")
        for index in copy.steps.indices { copy.steps[index].location = FileLocation() }
        return copy
    }
}
