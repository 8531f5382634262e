using System.Text;

namespace Netns;

/// <summary>
/// iproute2's batch syntax (lib/utils.c of iproute2 6.x), reimplemented: <see cref="IpBatchReader"/> is
/// <c>getcmdline()</c> (one command per line, <c>#</c> starts a comment, a backslash before the newline joins the next
/// line), <see cref="MakeArgs"/> is <c>makeargs()</c> (words split at blanks, single or double quotes around a word,
/// at most 511 words).
/// </summary>
internal static class IpBatch
{
    /// <summary>iproute2's MAX_ARGS: a line may hold one word less than this.</summary>
    public const int MaxArgs = 512;

    /// <summary>
    /// Splits a command line as <c>makeargs()</c> does: words are separated by spaces, tabs, CR and LF; a word that
    /// begins with <c>'</c> or <c>"</c> runs to the next same quote (blanks and the other quote included) and ends
    /// there, even if more text follows without a blank (<c>"a b"c</c> is the two words <c>a b</c> and <c>c</c>);
    /// a quote inside a word is an ordinary character. No backslash escapes.
    /// </summary>
    /// <returns>The words, or null with <paramref name="error"/> set to iproute2's message (ip exits 1 after it).</returns>
    public static List<string>? MakeArgs(string line, out string? error)
    {
        error = null;
        var words = new List<string>();
        int i = 0;
        while (i < line.Length)
        {
            while (i < line.Length && IsBlank(line[i])) i++;
            if (i == line.Length) break;

            if (words.Count >= MaxArgs - 1)
            {
                error = "Too many arguments to command";
                return null;
            }

            if (line[i] is '\'' or '"')
            {
                char quote = line[i++];
                int end = line.IndexOf(quote, i);
                if (end < 0)
                {
                    error = "Unterminated quoted string";
                    return null;
                }
                words.Add(line[i..end]);
                i = end + 1; // the closing quote ends the word, whatever follows
            }
            else
            {
                int start = i;
                while (i < line.Length && !IsBlank(line[i])) i++;
                words.Add(line[start..i]);
                i++; // the blank after the word
            }
        }
        return words;
    }

    private static bool IsBlank(char c) => c is ' ' or '\t' or '\r' or '\n';

    /// <summary>
    /// ip's objects (ip/ip.c, iproute2 6.1), in the order ip matches them: the first one the word is a prefix of
    /// wins ("n" and "ne" are "neighbor", "net" is "netns", "a" is "address").
    /// </summary>
    private static readonly string[] s_objects =
    [
        "address", "addrlabel", "maddress", "route", "rule", "neighbor", "neighbour", "ntable", "ntbl", "link",
        "l2tp", "fou", "ila", "macsec", "tunnel", "tunl", "tuntap", "tap", "token", "tcpmetrics", "tcp_metrics",
        "monitor", "xfrm", "mroute", "mrule", "netns", "netconf", "vrf", "sr", "nexthop", "mptcp", "ioam", "help",
        "stats",
    ];

    /// <summary>The ip object <paramref name="word"/> names, as ip's <c>do_cmd()</c> matches it; null if none.</summary>
    public static string? ObjectOf(string word)
    {
        foreach (string o in s_objects)
        {
            if (IpSyntax.Matches(word, o)) return o;
        }
        return null;
    }
}

/// <summary>
/// iproute2's <c>getcmdline()</c> over a byte stream: each call returns the next command with its comment cut off
/// (from the first <c>#</c> of each physical line, quotes or not) and continuation lines joined (a backslash
/// right before a newline); <see cref="LineNumber"/> counts physical lines, so after a continued command it is the
/// number of its last line, what ip prints in "Command failed FILE:LINE".
/// </summary>
/// <remarks>
/// Lines are bytes, decoded as UTF-8; like a C string a line ends at a NUL byte. A read error ends the input as
/// end-of-file does (ip's getline() fails then; e.g. for a directory given as the file).
/// </remarks>
internal sealed class IpBatchReader(Func<byte[], int> read)
{
    private readonly byte[] _buffer = new byte[4096];
    private int _start, _end;
    private bool _eof;

    /// <summary>Physical lines read so far.</summary>
    public int LineNumber { get; private set; }

    /// <summary>Reads from a stream (<see cref="IOException"/> reads as end-of-file).</summary>
    public static IpBatchReader FromStream(Stream stream) => new(buffer =>
    {
        try
        {
            return stream.Read(buffer, 0, buffer.Length);
        }
        catch (IOException)
        {
            return 0;
        }
    });

    /// <summary>
    /// The next command (possibly blank), or null at the end of the input; also null, with
    /// <paramref name="error"/> set to "Missing continuation line", when the input ends after a backslash-newline
    /// (ip then ends the batch as at end-of-file, without failing).
    /// </summary>
    public string? ReadCommand(out string? error)
    {
        error = null;
        string? line = ReadPhysicalLine();
        if (line is null) return null;
        LineNumber++;
        line = CutComment(line);

        int join;
        while ((join = line.IndexOf("\\\n", StringComparison.Ordinal)) >= 0)
        {
            string? next = ReadPhysicalLine();
            if (next is null)
            {
                error = "Missing continuation line";
                return null;
            }
            LineNumber++;
            line = line[..join] + CutComment(next);
        }
        return line;
    }

    private static string CutComment(string line)
    {
        int hash = line.IndexOf('#');
        return hash < 0 ? line : line[..hash];
    }

    /// <summary>getline(): the bytes up to and including the next newline (or to the end), cut at a NUL.</summary>
    private string? ReadPhysicalLine()
    {
        var bytes = new List<byte>();
        while (true)
        {
            if (_start == _end)
            {
                if (_eof) break;
                int n = read(_buffer);
                if (n <= 0)
                {
                    _eof = true;
                    break;
                }
                _start = 0;
                _end = n;
            }
            int newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            int stop = newline < 0 ? _end : newline + 1;
            for (int i = _start; i < stop; i++) bytes.Add(_buffer[i]);
            _start = stop;
            if (newline >= 0) break;
        }
        if (bytes.Count == 0) return null;
        int nul = bytes.IndexOf(0);
        if (nul >= 0) bytes.RemoveRange(nul, bytes.Count - nul);
        return Encoding.UTF8.GetString(bytes.ToArray());
    }
}
