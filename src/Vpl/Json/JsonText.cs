using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace Varpulis.Vpl.Json;

/// <summary>
/// Checks and error messages for JSON text received from outside: bytes that are not UTF-8, <c>\uXXXX</c> escapes that
/// leave a surrogate unpaired (valid JSON syntax, but not text: no string can hold them), and parse errors described in
/// our own words with a 1-based line and column instead of the parser's 0-based byte positions.
/// </summary>
public static class JsonText
{
    /// <summary>
    /// The first reason the bytes cannot be JSON text, or null: <c>SUBJECT is not valid UTF-8: byte 0xFF at offset 12
    /// (line 1, column 13)</c>, <c>SUBJECT has an unpaired surrogate escape '\ud800' at offset 30 (line 1, column 31): JSON
    /// strings must be valid Unicode</c>. Offsets count bytes from 0; lines and columns count from 1 (columns in characters).
    /// </summary>
    public static string? FindEncodingProblem(ReadOnlySpan<byte> utf8, string subject)
    {
        if (!Utf8.IsValid(utf8))
        {
            int at = FirstInvalidUtf8(utf8);
            return $"{subject} is not valid UTF-8: byte 0x{utf8[at]:X2} at offset {at} ({Where(utf8, at)})";
        }
        if (FirstUnpairedSurrogateEscape(utf8) is int escape)
        {
            var text = Encoding.ASCII.GetString(utf8.Slice(escape, 6));
            return $"{subject} has an unpaired surrogate escape '{text}' at offset {escape} ({Where(utf8, escape)}): JSON strings must be valid Unicode";
        }
        return null;
    }

    /// <summary>A parse error in our words: <c>line 2, column 14: unknown word: expected true, false or null</c>.</summary>
    public static string Describe(JsonException ex, ReadOnlySpan<byte> utf8)
    {
        int offset = OffsetOf(utf8, ex.LineNumber ?? 0, ex.BytePositionInLine ?? 0);
        if (ex.Message.Contains("invalid JSON literal", StringComparison.Ordinal))
        {
            // The parser stops inside the word: point at its start and quote it whole.
            int start = Math.Min(offset, utf8.Length);
            while (start > 0 && char.IsAsciiLetter((char)utf8[start - 1])) start--;
            int end = start;
            while (end < utf8.Length && char.IsAsciiLetter((char)utf8[end])) end++;
            var word = Encoding.ASCII.GetString(utf8[start..end]);
            return $"{Where(utf8, start)}: unknown word '{word}': expected true, false, null, a number, a string, an array or an object";
        }
        var rest = utf8[Math.Min(offset, utf8.Length)..];
        if (rest.Trim(" \t\r\n"u8).IsEmpty || ex.Message.Contains("reached end of data", StringComparison.Ordinal) || ex.Message.Contains("depth to be zero", StringComparison.Ordinal))
        {
            // Where the text ends (after any trailing whitespace).
            return $"{Where(utf8, utf8.TrimEnd(" \t\r\n"u8).Length)}: {End}";
        }
        if (ex.Message.Contains("escapable character", StringComparison.Ordinal) && offset > 0 && offset <= utf8.Length && utf8[offset - 1] == (byte)'\\')
            offset--; // point at the backslash that starts the escape
        return $"{Where(utf8, offset)}: {What(ex.Message, utf8, offset)}";
    }

    /// <summary><c>line L, column C</c> of a byte offset (1-based; the column counts characters, a tab as one).</summary>
    public static string Where(ReadOnlySpan<byte> utf8, int offset)
    {
        offset = Math.Clamp(offset, 0, utf8.Length);
        var before = utf8[..offset];
        int line = before.Count((byte)'\n') + 1;
        int lineStart = before.LastIndexOf((byte)'\n') + 1;
        int column = 1;
        foreach (byte b in utf8[lineStart..offset])
        {
            if ((b & 0xC0) != 0x80) column++;
        }
        return string.Create(CultureInfo.InvariantCulture, $"line {line}, column {column}");
    }

    private static int FirstInvalidUtf8(ReadOnlySpan<byte> utf8)
    {
        int i = 0;
        while (i < utf8.Length)
        {
            if (System.Text.Rune.DecodeFromUtf8(utf8[i..], out _, out int consumed) != System.Buffers.OperationStatus.Done) return i;
            i += consumed;
        }
        return utf8.Length - 1;
    }

    /// <summary>
    /// The offset of the first <c>\uD800</c>–<c>\uDFFF</c> escape that is not a high surrogate followed by a low one.
    /// Escapes are read pairwise from each backslash, so <c>\\ud800</c> (an escaped backslash, then text) is not one.
    /// </summary>
    private static int? FirstUnpairedSurrogateEscape(ReadOnlySpan<byte> utf8)
    {
        int i = 0;
        while (true)
        {
            int rel = utf8[i..].IndexOf((byte)'\\');
            if (rel < 0) return null;
            i += rel;
            if (i + 1 >= utf8.Length) return null;
            if (utf8[i + 1] != (byte)'u' || !TryHex4(utf8, i + 2, out int unit))
            {
                i += 2;
                continue;
            }
            if (unit is >= 0xD800 and <= 0xDBFF)
            {
                if (i + 11 < utf8.Length && utf8[i + 6] == (byte)'\\' && utf8[i + 7] == (byte)'u'
                    && TryHex4(utf8, i + 8, out int low) && low is >= 0xDC00 and <= 0xDFFF)
                {
                    i += 12;
                    continue;
                }
                return i;
            }
            if (unit is >= 0xDC00 and <= 0xDFFF) return i;
            i += 6;
        }
    }

    private static bool TryHex4(ReadOnlySpan<byte> utf8, int at, out int value)
    {
        value = 0;
        return at + 4 <= utf8.Length && int.TryParse(utf8.Slice(at, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
    }

    private static int OffsetOf(ReadOnlySpan<byte> utf8, long line, long bytePositionInLine)
    {
        int start = 0;
        for (long l = 0; l < line; l++)
        {
            int nl = utf8[start..].IndexOf((byte)'\n');
            if (nl < 0) return utf8.Length;
            start += nl + 1;
        }
        return (int)Math.Min(utf8.Length, start + bytePositionInLine);
    }

    private const string End = "the text ends before the JSON value is complete (is the body cut short?)";

    /// <summary>What went wrong, classified from the parser's message (its exact wording is not ours to show).</summary>
    private static string What(string message, ReadOnlySpan<byte> utf8, int offset)
    {
        bool atEnd = utf8[Math.Min(offset, utf8.Length)..].Trim(" \t\r\n"u8).IsEmpty;
        if (message.Contains("maximum configured depth", StringComparison.Ordinal))
            return $"nested deeper than {VplJson.DocumentOptions.MaxDepth} levels of arrays and objects";
        if (message.Contains("does not contain any JSON tokens", StringComparison.Ordinal))
            return "there is no JSON value";
        if (atEnd || message.Contains("reached end of data", StringComparison.Ordinal) || message.Contains("depth to be zero", StringComparison.Ordinal))
            return End;
        string found = Found(utf8, offset);
        if (message.Contains("escapable character", StringComparison.Ordinal))
            return "invalid escape in a string: after '\\' comes one of \" \\ / b f n r t or u and 4 hex digits";
        if (message.Contains("hex character", StringComparison.Ordinal) || message.Contains("hex digit", StringComparison.Ordinal))
            return "invalid escape in a string: '\\u' must be followed by 4 hex digits";
        if (message.Contains("within a JSON string", StringComparison.Ordinal))
            return $"{found} must be escaped inside a string";
        if (message.Contains("number", StringComparison.Ordinal))
            return $"malformed number at {found}";
        if (message.Contains("after a single JSON value", StringComparison.Ordinal))
            return $"unexpected {found} after the JSON value";
        if (message.Contains("after a property name", StringComparison.Ordinal))
            return $"expected ':' after the property name, found {found}";
        if (message.Contains("start of a property name", StringComparison.Ordinal))
            return $"expected a property name in double quotes, found {found}";
        if (message.Contains("after a value", StringComparison.Ordinal))
            return $"expected ',' or the end of the object or array, found {found}";
        if (message.Contains("start of a value", StringComparison.Ordinal))
        {
            return found == "'/'" ? "comments are not allowed in JSON" : $"expected a value, found {found}";
        }
        return $"malformed JSON at {found}";
    }

    /// <summary>The character at an offset, quoted when printable, else as U+XXXX.</summary>
    private static string Found(ReadOnlySpan<byte> utf8, int offset)
    {
        if (offset >= utf8.Length) return "the end of the text";
        if (System.Text.Rune.DecodeFromUtf8(utf8[offset..], out var rune, out _) != System.Buffers.OperationStatus.Done)
            return $"byte 0x{utf8[offset]:X2}";
        return System.Text.Rune.IsControl(rune) || System.Text.Rune.IsWhiteSpace(rune)
            ? $"character U+{rune.Value:X4}"
            : $"'{rune}'";
    }
}
