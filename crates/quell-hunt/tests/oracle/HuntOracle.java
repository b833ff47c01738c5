// The JVM oracle for quell hunt: runs Log4j 2.14.1's own StrSubstitutor, Interpolator and
// MessagePatternConverter with a recording JNDI lookup.
//
// Protocol: one payload per stdin line, base64 (UTF-8 text). For each payload one stdout line:
//   <single-status> TAB <single-names> TAB <rescan-status> TAB <rescan-names>
// status is "ok" or "error:<ExceptionClass>"; names are the recorded JNDI lookup keys, each base64
// encoded and prefixed with '=' (so that an empty name stays visible), joined by ',' (empty when none), in call order with duplicates.
//
// The environment is fixed so that quell's defaults can match it: `env` is empty, `sys` knows
// path.separator, file.separator and line.separator (Unix values) and answers <sys:KEY> for the
// properties every JVM sets (ALWAYS_SET), the properties map holds
// hostName=<HOSTNAME>. Every other lookup is Log4j's own plugin (date, lower, upper, java, ...).

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.config.DefaultConfiguration;
import org.apache.logging.log4j.core.impl.Log4jLogEvent;
import org.apache.logging.log4j.core.lookup.Interpolator;
import org.apache.logging.log4j.core.lookup.MapLookup;
import org.apache.logging.log4j.core.lookup.StrLookup;
import org.apache.logging.log4j.core.lookup.StrSubstitutor;
import org.apache.logging.log4j.core.pattern.MessagePatternConverter;
import org.apache.logging.log4j.message.SimpleMessage;

public class HuntOracle {
    static final List<String> RECORDED = new ArrayList<>();

    // The system properties every JVM sets (quell's ALWAYS_SET_SYS): JVM-dependent values,
    // answered by placeholders as quell's default environment does.
    static final String[] ALWAYS_SET = {
        "java.version", "java.vendor", "java.vendor.url", "java.home", "java.vm.specification.version",
        "java.vm.specification.vendor", "java.vm.specification.name", "java.vm.version", "java.vm.vendor",
        "java.vm.name", "java.specification.version", "java.specification.vendor", "java.specification.name",
        "java.class.version", "java.class.path", "java.library.path", "java.io.tmpdir", "java.runtime.version",
        "java.runtime.name", "os.name", "os.arch", "os.version", "user.name", "user.home", "user.dir",
        "file.encoding",
    };

    static final class Recorder implements StrLookup {
        public String lookup(String key) { RECORDED.add(key); return null; }
        public String lookup(LogEvent event, String key) { RECORDED.add(key); return null; }
    }

    static final class Fixed implements StrLookup {
        final Map<String, String> map;
        Fixed(Map<String, String> map) { this.map = map; }
        public String lookup(String key) { return map.get(key); }
        public String lookup(LogEvent event, String key) { return map.get(key); }
    }

    @SuppressWarnings("unchecked")
    public static void main(String[] args) throws Exception {
        Locale.setDefault(Locale.US);
        Map<String, String> props = new HashMap<>();
        props.put("hostName", "<HOSTNAME>");
        Interpolator interpolator = new Interpolator(new MapLookup(props), new ArrayList<String>());
        Field f = Interpolator.class.getDeclaredField("strLookupMap");
        f.setAccessible(true);
        Map<String, StrLookup> lookups = (Map<String, StrLookup>) f.get(interpolator);
        lookups.put("jndi", new Recorder());
        lookups.put("env", new Fixed(new HashMap<>()));
        Map<String, String> sys = new HashMap<>();
        for (String k : ALWAYS_SET) sys.put(k, "<sys:" + k + ">");
        sys.put("path.separator", ":");
        sys.put("file.separator", "/");
        sys.put("line.separator", "\n");
        lookups.put("sys", new Fixed(sys));
        if (args.length > 0 && args[0].equals("--list-lookups")) {
            System.out.println(new java.util.TreeSet<>(lookups.keySet()));
            return;
        }
        final StrSubstitutor subst = new StrSubstitutor(interpolator);
        DefaultConfiguration config = new DefaultConfiguration() {
            @Override
            public StrSubstitutor getStrSubstitutor() { return subst; }
        };
        MessagePatternConverter converter = MessagePatternConverter.newInstance(config, new String[0]);

        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        StringBuilder out = new StringBuilder();
        String line;
        while ((line = in.readLine()) != null) {
            String payload = new String(Base64.getDecoder().decode(line.trim()), StandardCharsets.UTF_8);
            LogEvent event = Log4jLogEvent.newBuilder().setLoggerName("oracle").setLevel(Level.INFO)
                    .setMessage(new SimpleMessage(payload)).build();
            RECORDED.clear();
            String status = "ok";
            try {
                subst.replace(event, payload);
            } catch (Throwable t) {
                status = "error:" + t.getClass().getSimpleName();
            }
            out.append(status).append('\t').append(encode(RECORDED)).append('\t');
            RECORDED.clear();
            status = "ok";
            try {
                converter.format(event, new StringBuilder());
            } catch (Throwable t) {
                status = "error:" + t.getClass().getSimpleName();
            }
            out.append(status).append('\t').append(encode(RECORDED)).append('\n');
            if (out.length() > 1 << 16) {
                System.out.print(out);
                out.setLength(0);
            }
        }
        System.out.print(out);
        System.out.flush();
    }

    static String encode(List<String> names) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < names.size(); i++) {
            if (i > 0) sb.append(',');
            sb.append('=').append(Base64.getEncoder().encodeToString(names.get(i).getBytes(StandardCharsets.UTF_8)));
        }
        return sb.toString();
    }
}
