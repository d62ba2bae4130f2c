import Foundation
import Testing

/// Independent checks of report files: Python's `html.parser` for well-formedness, Python's
/// `zlib` for the pixels of a screenshot, and headless Chromium from Debian's packages.
enum ReportInspection {
    struct Output {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    static func run(_ executable: String, _ arguments: [String], input: String? = nil) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe(), err = Pipe(), inPipe = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input == nil ? FileHandle.nullDevice : inPipe
        try process.run()
        if let input {
            inPipe.fileHandleForWriting.write(Data(input.utf8))
            try inPipe.fileHandleForWriting.close()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
    }

    static func python(_ script: String, _ arguments: [String]) throws -> Output {
        try run("/usr/bin/env", ["python3", "-c", script] + arguments)
    }

    /// Strict structure check: every non-void element closed in order, nothing after </html>,
    /// no end tag without its start, one DOCTYPE. Prints "ok" or the first problem.
    static let wellFormedHTML = #"""
import sys
from html.parser import HTMLParser
VOID = {"area","base","br","col","embed","hr","img","input","link","meta","source","track","wbr"}
SVG_LEAVES = {"rect","line","path","circle","polyline","polygon","ellipse"}
class Strict(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.stack, self.problems, self.doctype, self.closed = [], [], 0, False
    def where(self): return "line %d col %d" % self.getpos()
    def handle_decl(self, decl):
        self.doctype += 1
        if decl.lower() != "doctype html": self.problems.append("unexpected declaration " + decl)
    def handle_starttag(self, tag, attrs):
        if self.closed: self.problems.append("content after </html> at " + self.where())
        names = [a for a, _ in attrs]
        if len(names) != len(set(names)): self.problems.append("duplicate attribute in <%s> at %s" % (tag, self.where()))
        if tag not in VOID: self.stack.append(tag)
    def handle_startendtag(self, tag, attrs):
        if tag not in VOID and tag not in SVG_LEAVES: self.problems.append("self-closed <%s/> at %s" % (tag, self.where()))
    def handle_endtag(self, tag):
        if tag in VOID: self.problems.append("end tag for void <%s> at %s" % (tag, self.where())); return
        if not self.stack or self.stack[-1] != tag:
            self.problems.append("</%s> does not close <%s> at %s" % (tag, self.stack[-1] if self.stack else "nothing", self.where())); return
        self.stack.pop()
        if tag == "html": self.closed = True
    def handle_entityref(self, name):
        if name not in ("amp", "lt", "gt", "quot"): self.problems.append("unknown entity &%s; at %s" % (name, self.where()))
    def unknown_decl(self, data): self.problems.append("bad declaration " + data)
p = Strict()
p.feed(open(sys.argv[1], encoding="utf-8").read()); p.close()
if p.stack: p.problems.append("unclosed: " + ", ".join(p.stack))
if p.doctype != 1: p.problems.append("expected one <!DOCTYPE html>")
print(p.problems[0] if p.problems else "ok")
"""#

    /// Decodes an 8-bit RGB/RGBA PNG (all five filter types) with zlib and prints
    /// "WIDTHxHEIGHT COLOURS" — the number of distinct colours on a grid of sampled pixels.
    static let pngColours = #"""
import sys, zlib, struct
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat = 8, b""
while pos < len(data):
    length, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + length]
    if kind == b"IHDR": width, height, depth, colour = struct.unpack(">IIBB", body[:10])
    if kind == b"IDAT": idat += body
    pos += 12 + length
assert depth == 8 and colour in (2, 6), "unsupported PNG %d/%d" % (depth, colour)
bpp = 3 if colour == 2 else 4
raw, stride, rows, prev, off = zlib.decompress(idat), width * bpp, [], bytearray(width * bpp), 0
for _ in range(height):
    f, line = raw[off], bytearray(raw[off + 1:off + 1 + stride]); off += 1 + stride
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b = prev[i]; c = prev[i - bpp] if i >= bpp else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else (b if pb <= pc else c))) & 255
    rows.append(line); prev = line
colours = {bytes(rows[y][x * bpp:x * bpp + 3]) for y in range(0, height, 7) for x in range(0, width, 7)}
print("%dx%d %d" % (width, height, len(colours)))
"""#

    /// Chromium from Debian's packages; installed here when missing (scripts/setup.sh lists it).
    static func chromium() -> String? {
        let candidates = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        if let found = candidates.first(where: FileManager.default.isExecutableFile) { return found }
        let apt = ["-c", "DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium >/dev/null 2>&1 || "
                   + "(apt-get update >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium >/dev/null 2>&1)"]
        let asRoot = getuid() == 0 ? ["/bin/sh"] + apt : ["/usr/bin/sudo", "-n", "/bin/sh"] + apt
        _ = try? run(asRoot[0], Array(asRoot.dropFirst()))
        return candidates.first(where: FileManager.default.isExecutableFile)
    }

    /// Headless Chromium with its own profile directory, so parallel tests do not share a lock.
    static func headless(_ chromium: String, profile: URL, _ arguments: [String]) throws -> Output {
        try run("/usr/bin/timeout", ["120", chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                                     "--user-data-dir=\(profile.path)"] + arguments)
    }
}
