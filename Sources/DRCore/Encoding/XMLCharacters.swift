/// The character classes of XML 1.0 (fifth edition) that the parser checks, so that what it
/// accepts is well-formed XML: https://www.w3.org/TR/xml/#charsets and #NT-Name.
enum XMLCharacters {
    /// `Char`: what a document may contain at all (no NUL, no C0 controls but tab/LF/CR, no
    /// U+FFFE/U+FFFF; surrogates cannot occur in a Unicode.Scalar).
    static func isChar(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x9, 0xA, 0xD, 0x20...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF: return true
        default: return false
        }
    }

    /// `NameStartChar`.
    static func isNameStart(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x3A, 0x41...0x5A, 0x5F, 0x61...0x7A, 0xC0...0xD6, 0xD8...0xF6, 0xF8...0x2FF, 0x370...0x37D,
             0x37F...0x1FFF, 0x200C...0x200D, 0x2070...0x218F, 0x2C00...0x2FEF, 0x3001...0xD7FF, 0xF900...0xFDCF,
             0xFDF0...0xFFFD, 0x10000...0xEFFFF:
            return true
        default:
            return false
        }
    }

    /// `NameChar`.
    static func isName(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x2D, 0x2E, 0x30...0x39, 0xB7, 0x300...0x36F, 0x203F...0x2040: return true
        default: return isNameStart(scalar)
        }
    }

    /// A `Name` that is also a namespace-well-formed QName: at most one colon, not first or last
    /// (a response's element names are matched by their local part).
    static func isQualifiedName(_ name: String) -> Bool {
        let scalars = Array(name.unicodeScalars)
        guard let first = scalars.first, isNameStart(first), scalars.allSatisfy(isName) else { return false }
        let colons = scalars.filter { $0 == ":" }.count
        return colons == 0 || (colons == 1 && scalars.first != ":" && scalars.last != ":")
    }

    /// `S`: the four whitespace bytes.
    static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }
}
