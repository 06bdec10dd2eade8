using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Unicode;
using Varpulis.Vpl.Json;
using Varpulis.Vpl.Runtime;

namespace Varpulis.Vpl.Io;

public sealed partial class EvtReader
{
    private static readonly double[] PowersOf10 =
    [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ];

    private readonly Utf8StringInterner _strings = new();
    private Value[] _stack = new Value[32];
    private int _sp;
    private char[] _chars = new char[256];

    /// <summary>
    /// One value: <c>true false null</c>, a quoted string, a number, <c>[...]</c>, <c>{k: v}</c>, or a bare word (a string).
    /// <paramref name="depth"/> counts the arrays and maps around it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool ParseValue(ReadOnlySpan<byte> line, ref int pos, int depth, out Value v)
    {
        v = default;
        if (pos == line.Length) return Fail(pos, "expected a value");
        byte c = line[pos];
        switch (c)
        {
            case (byte)'"':
            case (byte)'\'':
                if (!ParseString(line, ref pos, out string s)) return false;
                v = Value.FromString(s);
                return true;
            case (byte)'[':
                return ParseArray(line, ref pos, depth + 1, out v);
            case (byte)'{':
                return ParseMap(line, ref pos, depth + 1, out v);
        }
        if (IsDigit(c) || c == (byte)'-')
        {
            // The common short number in one pass; anything else (exponents, long numbers, words) takes the general path.
            if (TryParseShortNumber(line, pos, out int shortEnd, out v))
            {
                pos = shortEnd;
                return true;
            }

            // One pass over a number: it counts only when the word ends where the number does.
            int numEnd = ScanNumber(line, pos);
            if (numEnd > pos && (numEnd == line.Length || !IsWordByte(line[numEnd])))
            {
                int status = TryParseNumber(line[pos..numEnd], out v);
                if (status == NumberOk)
                {
                    pos = numEnd;
                    return true;
                }
                if (status == NumberOutOfRange) return Fail(pos, $"number '{ValueJson.Truncate(Encoding.ASCII.GetString(line[pos..numEnd]))}' is out of range");
            }
        }
        int end = ScanWord(line, pos);
        if (end == pos) return Fail(pos, Unexpected(line, pos, "expected a value"));
        var word = line[pos..end];
        if (!IsDigit(c) && c != (byte)'-' && (word.SequenceEqual("true"u8) || word.SequenceEqual("false"u8) || word.SequenceEqual("null"u8)))
        {
            v = c == (byte)'t' ? Value.True : c == (byte)'f' ? Value.False : Value.Null;
            pos = end;
            return true;
        }
        if (!Intern(word, pos, out string text)) return false;
        v = Value.FromString(text);
        pos = end;
        return true;
    }

    /// <summary>A bare word runs to whitespace, a control character, a quote or one of <c>, [ ] { } ( )</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ScanWord(ReadOnlySpan<byte> line, int pos)
    {
        while (pos < line.Length && IsWordByte(line[pos])) pos++;
        return pos;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsWordByte(byte b) => WordBytes[b] != 0;

    /// <summary>1 for the bytes a bare word is made of: above space, not DEL, not one of <c>, [ ] { } ( ) " '</c>.</summary>
    private static ReadOnlySpan<byte> WordBytes =>
    [
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 0x00-0x1F
        0, 1, 0, 1, 1, 1, 1, 0, 0, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, // space ! " # $ % & ' ( ) * + , - . / 0-9 : ; < = > ?
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 1, // @ A-Z [ \ ] ^ _
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0, // ` a-z { | } ~ DEL
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, // 0x80-0xFF
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    ];

    /// <summary>
    /// The end of the longest prefix at <paramref name="pos"/> shaped like <c>-?digits(.digits)?([eE][+-]?digits)?</c>,
    /// stopping early (so that the word is not a number) where a part has no digits; <paramref name="pos"/> when none.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int ScanNumber(ReadOnlySpan<byte> line, int pos)
    {
        int i = pos;
        if (i < line.Length && line[i] == (byte)'-') i++;
        int digits = i;
        while (i < line.Length && IsDigit(line[i])) i++;
        if (i == digits) return pos;
        if (i < line.Length && line[i] == (byte)'.')
        {
            int frac = ++i;
            while (i < line.Length && IsDigit(line[i])) i++;
            if (i == frac) return pos;
        }
        if (i < line.Length && (line[i] | 0x20) == (byte)'e')
        {
            i++;
            if (i < line.Length && (line[i] == (byte)'+' || line[i] == (byte)'-')) i++;
            int exp = i;
            while (i < line.Length && IsDigit(line[i])) i++;
            if (i == exp) return pos;
        }
        return i;
    }

    /// <summary>
    /// <c>-?digits(.digits)?</c> with at most 15 digits in all, ending where its word ends: read while scanning, with the
    /// same result as <see cref="ScanNumber"/> then <see cref="TryParseNumber"/> (an int, or the mantissa divided by a power
    /// of ten, exact for these lengths). False, with nothing consumed, for every other shape.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TryParseShortNumber(ReadOnlySpan<byte> line, int pos, out int end, out Value v)
    {
        v = default;
        end = pos;
        int i = pos;
        bool negative = line[i] == (byte)'-';
        if (negative) i++;
        int start = i;
        long mantissa = 0;
        while (i < line.Length && IsDigit(line[i]) && i - start < 16)
        {
            mantissa = (mantissa * 10) + (line[i] - (byte)'0');
            i++;
        }
        int intDigits = i - start;
        if (intDigits == 0 || intDigits > 15) return false;
        int fracDigits = -1;
        if (i < line.Length && line[i] == (byte)'.')
        {
            i++;
            int fracStart = i;
            while (i < line.Length && IsDigit(line[i]) && intDigits + (i - fracStart) < 16)
            {
                mantissa = (mantissa * 10) + (line[i] - (byte)'0');
                i++;
            }
            fracDigits = i - fracStart;
            if (fracDigits == 0 || intDigits + fracDigits > 15) return false;
        }
        if (i < line.Length && IsWordByte(line[i])) return false;
        if (fracDigits < 0)
        {
            v = Value.FromInt(negative ? -mantissa : mantissa);
        }
        else
        {
            double d = mantissa / PowersOf10[fracDigits];
            v = Value.FromFloat(negative ? -d : d);
        }
        end = i;
        return true;
    }

    private const int NotANumber = 0;
    private const int NumberOk = 1;
    private const int NumberOutOfRange = 2;

    /// <summary>
    /// <c>-?digits(.digits)?([eE][+-]?digits)?</c>: an int without fraction or exponent (a float beyond 64 bits), else a
    /// float. Short decimals take an exact fast path (mantissa below 10^15 divided by a power of ten is correctly
    /// rounded); the rest goes to <see cref="double.TryParse(ReadOnlySpan{byte}, NumberStyles, IFormatProvider?, out double)"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int TryParseNumber(ReadOnlySpan<byte> tok, out Value v)
    {
        v = default;
        int n = tok.Length;
        int i = tok[0] == (byte)'-' ? 1 : 0;
        bool negative = i == 1;
        int intStart = i;
        long mantissa = 0;
        while (i < n && IsDigit(tok[i]))
        {
            if (i - intStart < 18) mantissa = (mantissa * 10) + (tok[i] - (byte)'0');
            i++;
        }
        int intDigits = i - intStart;
        if (intDigits == 0) return NotANumber;
        int fracDigits = 0;
        bool isFloat = false, hasExponent = false;
        if (i < n && tok[i] == (byte)'.')
        {
            i++;
            int fracStart = i;
            while (i < n && IsDigit(tok[i]))
            {
                if (intDigits + (i - fracStart) < 18) mantissa = (mantissa * 10) + (tok[i] - (byte)'0');
                i++;
            }
            fracDigits = i - fracStart;
            if (fracDigits == 0) return NotANumber;
            isFloat = true;
        }
        if (i < n && (tok[i] | 0x20) == (byte)'e')
        {
            i++;
            if (i < n && (tok[i] == (byte)'+' || tok[i] == (byte)'-')) i++;
            int expStart = i;
            while (i < n && IsDigit(tok[i])) i++;
            if (i == expStart) return NotANumber;
            isFloat = hasExponent = true;
        }
        if (i != n) return NotANumber;
        if (!isFloat)
        {
            if (intDigits <= 18)
            {
                v = Value.FromInt(negative ? -mantissa : mantissa);
                return NumberOk;
            }
            if (Utf8Parser.TryParse(tok, out long big, out int consumed) && consumed == n)
            {
                v = Value.FromInt(big);
                return NumberOk;
            }
        }
        else if (!hasExponent && intDigits + fracDigits <= 15)
        {
            double d = mantissa / PowersOf10[fracDigits];
            v = Value.FromFloat(negative ? -d : d);
            return NumberOk;
        }
        if (!double.TryParse(tok, NumberStyles.Float, CultureInfo.InvariantCulture, out double parsed)) return NotANumber;
        if (!double.IsFinite(parsed)) return NumberOutOfRange;
        v = Value.FromFloat(parsed);
        return NumberOk;
    }

    // ---------------------------------------------------------------- strings

    /// <summary>A <c>"..."</c> or <c>'...'</c> string with escapes <c>\" \' \\ \n \t \r \u{X...} \uXXXX</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool ParseString(ReadOnlySpan<byte> line, ref int pos, out string s)
    {
        s = string.Empty;
        byte quote = line[pos];
        int start = pos + 1;
        var rest = line[start..];
        int idx = rest.IndexOfAny(quote, (byte)'\\');
        if (idx < 0) return Fail(pos, "unterminated string");
        if (rest[idx] != quote) return ParseEscapedString(line, ref pos, out s);
        var raw = rest[..idx];
        int control = FindControl(raw);
        if (control >= 0) return Fail(start + control, $"unexpected control character U+{raw[control]:X4} in string");
        if (!Intern(raw, start, out s)) return false;
        pos = start + idx + 1;
        return true;
    }

    private bool ParseEscapedString(ReadOnlySpan<byte> line, ref int pos, out string s)
    {
        s = string.Empty;
        int quotePos = pos;
        byte quote = line[pos];
        int i = pos + 1;
        int segment = i;
        int n = 0;
        while (true)
        {
            if (i == line.Length) return Fail(quotePos, "unterminated string");
            byte b = line[i];
            if (b == quote || b == (byte)'\\')
            {
                if (!AppendUtf8(line[segment..i], segment, ref n)) return false;
                if (b == quote) break;
                if (i + 1 == line.Length) return Fail(quotePos, "unterminated string");
                if (!ParseEscape(line, ref i, ref n)) return false;
                segment = i;
                continue;
            }
            if (b < 0x20 && b != (byte)'\t') return Fail(i, $"unexpected control character U+{b:X4} in string");
            i++;
        }
        var raw = line[(quotePos + 1)..i];
        if (raw.Length <= Utf8StringInterner.MaxKeyBytes)
        {
            if (!_strings.TryGet(raw, out s, out int slot))
            {
                s = new string(_chars, 0, n);
                _strings.Store(slot, raw, s);
            }
        }
        else
        {
            s = new string(_chars, 0, n);
        }
        pos = i + 1;
        return true;
    }

    /// <summary>Decodes one escape at <paramref name="i"/> (a backslash) into the char buffer and moves past it.</summary>
    private bool ParseEscape(ReadOnlySpan<byte> line, ref int i, ref int n)
    {
        int at = i;
        byte e = line[i + 1];
        char ch;
        switch (e)
        {
            case (byte)'"': ch = '"'; break;
            case (byte)'\'': ch = '\''; break;
            case (byte)'\\': ch = '\\'; break;
            case (byte)'n': ch = '\n'; break;
            case (byte)'t': ch = '\t'; break;
            case (byte)'r': ch = '\r'; break;
            case (byte)'u':
                return ParseUnicodeEscape(line, ref i, ref n);
            default:
                return Fail(at, e is >= 0x21 and < 0x7F ? $"unknown escape '\\{(char)e}'" : "unknown escape");
        }
        EnsureChars(n + 1);
        _chars[n++] = ch;
        i += 2;
        return true;
    }

    private bool ParseUnicodeEscape(ReadOnlySpan<byte> line, ref int i, ref int n)
    {
        int at = i;
        int p = i + 2;
        if (p < line.Length && line[p] == (byte)'{')
        {
            p++;
            int digits = 0;
            int cp = 0;
            while (p < line.Length && digits <= 6 && HexValue(line[p]) is int h and >= 0)
            {
                cp = (cp << 4) | h;
                digits++;
                p++;
            }
            if (digits == 0 || digits > 6 || p == line.Length || line[p] != (byte)'}' || !Rune.IsValid(cp)) return Fail(at, "invalid unicode escape");
            EnsureChars(n + 2);
            n += new Rune(cp).EncodeToUtf16(_chars.AsSpan(n));
            i = p + 1;
            return true;
        }
        if (!TryHex4(line, p, out int unit)) return Fail(at, "invalid unicode escape");
        p += 4;
        if (char.IsLowSurrogate((char)unit)) return Fail(at, "invalid unicode escape: unpaired surrogate");
        EnsureChars(n + 2);
        if (char.IsHighSurrogate((char)unit))
        {
            if (p + 1 >= line.Length || line[p] != (byte)'\\' || line[p + 1] != (byte)'u'
                || !TryHex4(line, p + 2, out int low) || !char.IsLowSurrogate((char)low))
            {
                return Fail(at, "invalid unicode escape: unpaired surrogate");
            }
            _chars[n++] = (char)unit;
            _chars[n++] = (char)low;
            i = p + 6;
            return true;
        }
        _chars[n++] = (char)unit;
        i = p;
        return true;
    }

    private static bool TryHex4(ReadOnlySpan<byte> line, int p, out int value)
    {
        value = 0;
        if (p + 4 > line.Length) return false;
        for (int k = 0; k < 4; k++)
        {
            int h = HexValue(line[p + k]);
            if (h < 0) return false;
            value = (value << 4) | h;
        }
        return true;
    }

    private static int HexValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };

    private bool AppendUtf8(ReadOnlySpan<byte> segment, int segmentPos, ref int n)
    {
        if (segment.IsEmpty) return true;
        EnsureChars(n + segment.Length);
        var status = Utf8.ToUtf16(segment, _chars.AsSpan(n), out int read, out int written, replaceInvalidSequences: false);
        if (status != OperationStatus.Done) return Fail(segmentPos + read, "invalid UTF-8 in string");
        n += written;
        return true;
    }

    private void EnsureChars(int needed)
    {
        if (needed > _chars.Length) Array.Resize(ref _chars, Math.Max(needed, _chars.Length * 2));
    }

    /// <summary>The index of the first control character other than tab, or -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int FindControl(ReadOnlySpan<byte> s)
    {
        int from = 0;
        while (true)
        {
            int k = s[from..].IndexOfAnyInRange((byte)0, (byte)0x1F);
            if (k < 0) return -1;
            if (s[from + k] != (byte)'\t') return from + k;
            from += k + 1;
        }
    }

    /// <summary>The string of some UTF-8 bytes, shared through the interner when short; invalid UTF-8 is an error.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool Intern(ReadOnlySpan<byte> raw, int rawPos, out string s)
    {
        int slot = -1;
        if (raw.Length <= Utf8StringInterner.MaxKeyBytes && _strings.TryGet(raw, out s, out slot)) return true;
        if (!Utf8.IsValid(raw))
        {
            s = string.Empty;
            Utf8.ToUtf16(raw, new char[raw.Length], out int read, out _, replaceInvalidSequences: false);
            return Fail(rawPos + read, "invalid UTF-8");
        }
        s = Encoding.UTF8.GetString(raw);
        if (slot >= 0) _strings.Store(slot, raw, s);
        return true;
    }

    // ---------------------------------------------------------------- arrays and maps

    private bool ParseArray(ReadOnlySpan<byte> line, ref int pos, int depth, out Value v)
    {
        v = default;
        if (depth > VplJson.MaxValueDepth) return Fail(pos, $"nesting deeper than {VplJson.MaxValueDepth} levels");
        pos++;
        int mark = _sp;
        while (true)
        {
            pos = SkipWs(line, pos);
            if (pos == line.Length) return Fail(pos, "expected ']' to close the array");
            if (line[pos] == (byte)']') break;
            if (!ParseValue(line, ref pos, depth, out var item)) return false;
            if (_sp == _stack.Length) Array.Resize(ref _stack, _stack.Length * 2);
            _stack[_sp++] = item;
            pos = SkipWs(line, pos);
            if (pos == line.Length) return Fail(pos, "expected ']' to close the array");
            if (line[pos] == (byte)',')
            {
                pos++;
                continue;
            }
            if (line[pos] == (byte)']') break;
            return Fail(pos, Unexpected(line, pos, "expected ',' or ']' after array element"));
        }
        pos++;
        var items = _sp == mark ? Array.Empty<Value>() : _stack.AsSpan(mark, _sp - mark).ToArray();
        _sp = mark;
        v = Value.FromArray(items);
        return true;
    }

    private bool ParseMap(ReadOnlySpan<byte> line, ref int pos, int depth, out Value v)
    {
        v = default;
        if (depth > VplJson.MaxValueDepth) return Fail(pos, $"nesting deeper than {VplJson.MaxValueDepth} levels");
        pos++;
        var map = new ValueMap();
        while (true)
        {
            pos = SkipWs(line, pos);
            if (pos == line.Length) return Fail(pos, "expected '}' to close the map");
            byte c = line[pos];
            if (c == (byte)'}') break;
            int keyPos = pos;
            string key;
            if (IsIdentStart(c))
            {
                int end = ScanIdent(line, pos);
                if (!Intern(line[pos..end], pos, out key)) return false;
                pos = end;
            }
            else if (c == (byte)'"' || c == (byte)'\'')
            {
                if (!ParseString(line, ref pos, out key)) return false;
            }
            else
            {
                return Fail(pos, Unexpected(line, pos, "expected a key"));
            }
            pos = SkipWs(line, pos);
            if (pos == line.Length || line[pos] != (byte)':') return Fail(pos, Unexpected(line, pos, "expected ':' after key"));
            pos = SkipWs(line, pos + 1);
            if (!ParseValue(line, ref pos, depth, out var item)) return false;
            if (!map.TryAdd(key, item)) return Fail(keyPos, $"duplicate key '{ValueJson.Truncate(key)}'");
            pos = SkipWs(line, pos);
            if (pos == line.Length) return Fail(pos, "expected '}' to close the map");
            if (line[pos] == (byte)',')
            {
                pos++;
                continue;
            }
            if (line[pos] == (byte)'}') break;
            return Fail(pos, Unexpected(line, pos, "expected ',' or '}' after map value"));
        }
        pos++;
        v = Value.FromMap(map);
        return true;
    }
}
