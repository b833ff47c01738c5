// What the JVM oracles (HuntOracle.java, TextOracle.java) share: the protocol with the Rust
// tests and the `sys` values of quell's default environment. Compiled with each oracle.
//
// Protocol: one payload per stdin line, base64 (UTF-8 text). For each payload one stdout line of
// tab-separated fields, which each oracle describes. A list field holds strings each base64
// encoded and prefixed with '=' (so that an empty string stays visible), joined by ',' (empty
// when none), in call order with duplicates.

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

final class OracleProtocol {
    private OracleProtocol() {}

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

    // The `sys` values of quell's default environment: "<sys:KEY>" for ALWAYS_SET, the separators
    // with their Unix values.
    static Map<String, String> sys() {
        Map<String, String> sys = new HashMap<>();
        for (String k : ALWAYS_SET) sys.put(k, "<sys:" + k + ">");
        sys.put("path.separator", ":");
        sys.put("file.separator", "/");
        sys.put("line.separator", "\n");
        return sys;
    }

    // Answers every payload on stdin with the line `answer` gives it (fields without the newline).
    static void serve(Function<String, String> answer) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        StringBuilder out = new StringBuilder();
        String line;
        while ((line = in.readLine()) != null) {
            String payload = new String(Base64.getDecoder().decode(line.trim()), StandardCharsets.UTF_8);
            out.append(answer.apply(payload)).append('\n');
            if (out.length() > 1 << 16) {
                System.out.print(out);
                out.setLength(0);
            }
        }
        System.out.print(out);
        System.out.flush();
    }

    // `status` of a call that threw `t`: "error:<ExceptionClass>".
    static String error(Throwable t) {
        return "error:" + t.getClass().getSimpleName();
    }

    static String base64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    // A list field.
    static String encode(List<String> items) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < items.size(); i++) {
            if (i > 0) sb.append(',');
            sb.append('=').append(base64(items.get(i)));
        }
        return sb.toString();
    }
}
