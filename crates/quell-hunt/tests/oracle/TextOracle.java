// The JVM oracle for quell hunt's Text4Shell evaluator: runs Apache Commons Text's own
// StringSubstitutor with the lookups of StringSubstitutor.createInterpolator() (taken from the
// jar on the class path: 1.9 has script/dns/url, 1.10.0 does not), the acting ones replaced by
// recorders.
//
// Protocol (OracleProtocol.java): one payload per stdin line, base64 (UTF-8 text). For each
// payload one stdout line:
//   <status> TAB <events> TAB <output>
// status is "ok" or "error:<ExceptionClass>"; events are what the recorders saw, in call order
// with duplicates, each as "script=ENGINE:CODE", "dns=NAME", "url=URL" or "file=PATH", a list
// field (each base64 encoded and prefixed with '=', joined by ','); output is the substituted
// text, base64.
// With --list-lookups it prints the interpolator's lookup keys and exits.
//
// The recorders keep the real lookups' argument checks (they throw IllegalArgumentException as
// the real ones do) and answer null: script (split(":", 2), two parts), dns (the name after '|',
// trimmed, or the whole key), url and file (split(":") of at least two parts; the text after the
// first ':'), xml (split(":") of exactly two parts; the document) and properties (split("::") of
// at least two parts; the document). The environment is fixed as quell's default: env is empty,
// sys answers "<sys:KEY>" for the properties every JVM sets (separators with their Unix values),
// java answers "<java:KEY>" for its six keys, localhost "<localhost:KEY>" for its three; both
// throw IllegalArgumentException for other keys, as the real lookups do. The rest (base64Decoder,
// base64Encoder, urlDecoder, urlEncoder, const, date, resourceBundle) are the jar's own.

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.apache.commons.text.StringSubstitutor;
import org.apache.commons.text.lookup.StringLookup;
import org.apache.commons.text.lookup.StringLookupFactory;

public class TextOracle {
    static final List<String> RECORDED = new ArrayList<>();

    static String[] split(String s, String sep) { return s.split(java.util.regex.Pattern.quote(sep)); }

    static String after(String s, char c) {
        int i = s.indexOf(c);
        return i < 0 ? "" : s.substring(i + 1);
    }

    @SuppressWarnings("unchecked")
    public static void main(String[] args) throws Exception {
        Locale.setDefault(Locale.US);
        StringLookup real = StringSubstitutor.createInterpolator().getStringLookup();
        Method m = real.getClass().getDeclaredMethod("getStringLookupMap");
        m.setAccessible(true);
        Map<String, StringLookup> lookups = new HashMap<>((Map<String, StringLookup>) m.invoke(real));
        if (args.length > 0 && args[0].equals("--list-lookups")) {
            System.out.println(new java.util.TreeSet<>(lookups.keySet()));
            return;
        }
        Map<String, String> sys = OracleProtocol.sys();
        Map<String, StringLookup> stubs = new HashMap<>();
        stubs.put("script", key -> {
            String[] k = key.split(":", 2);
            if (k.length != 2) throw new IllegalArgumentException("bad script key");
            RECORDED.add("script=" + k[0] + ":" + k[1]);
            return null;
        });
        stubs.put("dns", key -> {
            String[] k = key.trim().split("\\|");
            String sub = k[0].trim();
            String name = k.length < 2 ? key : k[1].trim();
            RECORDED.add("dns=" + name);
            return null;
        });
        stubs.put("url", key -> {
            if (split(key, ":").length < 2) throw new IllegalArgumentException("bad url key");
            RECORDED.add("url=" + after(key, ':'));
            return null;
        });
        stubs.put("file", key -> {
            if (split(key, ":").length < 2) throw new IllegalArgumentException("bad file key");
            RECORDED.add("file=" + after(key, ':'));
            return null;
        });
        stubs.put("xml", key -> {
            String[] k = split(key, ":");
            if (k.length != 2) throw new IllegalArgumentException("bad xml key");
            RECORDED.add("file=" + k[0]);
            return null;
        });
        stubs.put("properties", key -> {
            String[] k = split(key, "::");
            if (k.length < 2) throw new IllegalArgumentException("bad properties key");
            RECORDED.add("file=" + k[0]);
            return null;
        });
        stubs.put("env", key -> null);
        stubs.put("sys", key -> sys.get(key));
        stubs.put("java", key -> {
            switch (key) {
                case "version": case "runtime": case "vm": case "os": case "hardware": case "locale":
                    return "<java:" + key + ">";
                default: throw new IllegalArgumentException(key);
            }
        });
        stubs.put("localhost", key -> {
            switch (key) {
                case "name": case "canonical-name": case "address": return "<localhost:" + key + ">";
                default: throw new IllegalArgumentException(key);
            }
        });
        for (Map.Entry<String, StringLookup> e : stubs.entrySet()) {
            if (lookups.containsKey(e.getKey())) lookups.put(e.getKey(), e.getValue());
        }
        StringSubstitutor subst =
            new StringSubstitutor(StringLookupFactory.INSTANCE.interpolatorStringLookup(lookups, null, false));

        OracleProtocol.serve(payload -> {
            RECORDED.clear();
            String status = "ok";
            String result = "";
            try {
                result = subst.replace(payload);
            } catch (Throwable t) {
                status = OracleProtocol.error(t);
            }
            return status + '\t' + OracleProtocol.encode(RECORDED) + '\t' + OracleProtocol.base64(result);
        });
    }
}
