import Foundation
import GoldCore

/// A small real C project: prints which `-march` level it was built for and installs the CFLAGS it saw.
enum CProject {
    static func write(into dir: TemporaryDirectory, at relative: String = "hello") throws -> String {
        try dir.write(
            "\(relative)/hello.c",
            """
            #include <stdio.h>
            int main(void) {
            #ifdef __AVX2__
                puts("hello from x86-64-v3 (AVX2)");
            #else
                puts("hello from baseline x86-64");
            #endif
                return 0;
            }

            """)
        try dir.write(
            "\(relative)/Makefile",
            """
            PREFIX ?= /usr/local
            hello: hello.c
            \t$(CC) $(CFLAGS) -o hello hello.c
            install: hello
            \tinstall -D -m 0755 hello $(DESTDIR)$(PREFIX)/bin/hello
            \tinstall -d $(DESTDIR)$(PREFIX)/share/hello
            \techo '$(CFLAGS)' > $(DESTDIR)$(PREFIX)/share/hello/cflags
            \tchmod 0640 $(DESTDIR)$(PREFIX)/share/hello/cflags

            """)
        return dir.path + "/" + relative
    }

    static func spec(_ path: String, build: [String] = ["make", "make install"]) -> BinarySpec {
        BinarySpec(name: "hello", source: "dir:\(path)", build: build, installs: ["/usr/local/bin/hello"])
    }
}
