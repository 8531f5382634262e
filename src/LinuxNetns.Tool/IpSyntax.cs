using System.Text;

namespace Netns;

/// <summary>iproute2's command-line conventions, reimplemented: prefix matching, numbers, names, pids.</summary>
internal static class IpSyntax
{
    /// <summary>
    /// iproute2's <c>matches()</c>: true when <paramref name="word"/> is a non-empty prefix of <paramref name="command"/>
    /// ("l", "li" and "list" all match "list"; "" matches nothing).
    /// </summary>
    public static bool Matches(string word, string command) =>
        word.Length > 0 && command.StartsWith(word, StringComparison.Ordinal);

    /// <summary>iproute2's rule for a netns name: not empty, at most NAME_MAX (255) bytes, no '/', not "." or "..".</summary>
    public static bool IsInvalidName(string name) =>
        name.Length == 0 || Encoding.UTF8.GetByteCount(name) > 255 || name.Contains('/') || name is "." or "..";

    /// <summary>iproute2's <c>is_pid()</c>: only decimal digits (the empty string too).</summary>
    public static bool IsPid(string text)
    {
        foreach (char c in text)
        {
            if (c is < '0' or > '9') return false;
        }
        return true;
    }

    /// <summary>
    /// iproute2's <c>get_integer()</c>/<c>get_s32()</c> with base 0: C <c>strtol</c> syntax (leading blanks, a sign,
    /// "0x" for hex, a leading "0" for octal), the whole string consumed, the value within int.
    /// </summary>
    public static bool TryParseInt(string text, out int value)
    {
        value = 0;
        if (!TryParseC(text, out bool negative, out long magnitude)) return false;
        long result = negative ? -magnitude : magnitude;
        if (result is < int.MinValue or > int.MaxValue) return false;
        value = (int)result;
        return true;
    }

    /// <summary>
    /// iproute2's <c>get_unsigned()</c> with base 0: C <c>strtoul</c> syntax, the whole string consumed, the value
    /// within unsigned int ("-0" is 0; any other negative number wraps above the range, as strtoul's does).
    /// </summary>
    public static bool TryParseUnsigned(string text, out uint value)
    {
        value = 0;
        if (!TryParseC(text, out bool negative, out long magnitude)) return false;
        if (magnitude > uint.MaxValue || (negative && magnitude != 0)) return false;
        value = (uint)magnitude;
        return true;
    }

    /// <summary>The syntax strtol and strtoul share: blanks, a sign, a radix prefix, digits to the end.</summary>
    private static bool TryParseC(string text, out bool negative, out long magnitude)
    {
        negative = false;
        magnitude = 0;
        int i = 0;
        while (i < text.Length && IsCSpace(text[i])) i++;
        if (i < text.Length && text[i] is '+' or '-')
        {
            negative = text[i] == '-';
            i++;
        }
        int radix = 10;
        if (i + 1 < text.Length && text[i] == '0' && text[i + 1] is 'x' or 'X' && i + 2 < text.Length && Digit(text[i + 2], 16) >= 0)
        {
            radix = 16;
            i += 2;
        }
        else if (i < text.Length && text[i] == '0')
        {
            radix = 8;
        }
        int start = i;
        for (; i < text.Length; i++)
        {
            int d = Digit(text[i], radix);
            if (d < 0) break;
            magnitude = magnitude * radix + d;
            if (magnitude > uint.MaxValue + 1L) return false; // out of every range here, whatever follows
        }
        return i != start && i == text.Length;
    }

    private static bool IsCSpace(char c) => c is ' ' or '\t' or '\n' or '\v' or '\f' or '\r';

    private static int Digit(char c, int radix)
    {
        int d = c switch
        {
            >= '0' and <= '9' => c - '0',
            >= 'a' and <= 'z' => c - 'a' + 10,
            >= 'A' and <= 'Z' => c - 'A' + 10,
            _ => -1,
        };
        return d < radix ? d : -1;
    }
}
