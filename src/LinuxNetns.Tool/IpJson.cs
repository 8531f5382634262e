using System.Text;

namespace Netns;

/// <summary>
/// The JSON that <c>ip -j</c> prints for the netns commands: an array of flat objects, compact, or with <c>-p</c>
/// iproute2's pretty layout. Strings are escaped as iproute2 escapes them (\t \n \r \f \b \\ \").
/// </summary>
internal sealed class IpJson(bool pretty)
{
    private readonly List<List<(string Key, object Value)>> _objects = [];
    private List<(string Key, object Value)>? _current;

    public IpJson Object()
    {
        _current = [];
        _objects.Add(_current);
        return this;
    }

    public IpJson Field(string key, string value) => Add(key, value);

    public IpJson Field(string key, int value) => Add(key, value);

    private IpJson Add(string key, object value)
    {
        (_current ?? throw new InvalidOperationException("Object() first")).Add((key, value));
        return this;
    }

    /// <summary>The whole document, with iproute2's final newline.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append('[');
        if (pretty) sb.Append(' ');
        for (int i = 0; i < _objects.Count; i++)
        {
            if (i > 0) sb.Append(',');
            sb.Append('{');
            List<(string Key, object Value)> fields = _objects[i];
            for (int j = 0; j < fields.Count; j++)
            {
                if (j > 0) sb.Append(',');
                if (pretty) sb.Append("\n        ");
                Quote(sb, fields[j].Key);
                sb.Append(pretty ? ": " : ":");
                if (fields[j].Value is string s) Quote(sb, s);
                else sb.Append(((int)fields[j].Value).ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
            if (pretty && fields.Count > 0) sb.Append("\n    ");
            sb.Append('}');
        }
        if (pretty && _objects.Count > 0) sb.Append(' ');
        sb.Append("]\n");
        return sb.ToString();
    }

    private static void Quote(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (char c in s)
        {
            sb.Append(c switch
            {
                '\t' => "\\t",
                '\n' => "\\n",
                '\r' => "\\r",
                '\f' => "\\f",
                '\b' => "\\b",
                '\\' => "\\\\",
                '"' => "\\\"",
                _ => c.ToString(),
            });
        }
        sb.Append('"');
    }
}
