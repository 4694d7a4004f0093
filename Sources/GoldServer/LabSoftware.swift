import Foundation

/// The lab's own piece of fleet software: `hello`, a small TCP service compiled per machine by the compile role.
/// Its source lives in the lab's state directory so a test (or a person) can change it and run `gold update`:
/// `VERSION` is what it answers, `CHECK_EXIT` what `hello --check` (the machine's check) exits with.
public enum LabSoftware {
    public static let port = 7070

    static let source = #"""
        /* hello: answers "hello VERSION" on a TCP port; --check is the machine's health check. */
        #include <arpa/inet.h>
        #include <netinet/in.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        #include <sys/socket.h>
        #include <unistd.h>

        int main(int argc, char **argv) {
            if (argc > 1 && strcmp(argv[1], "--check") == 0) {
                printf("hello %s: check %s\n", VERSION, CHECK_EXIT == 0 ? "passed" : "FAILED (this build is broken on purpose)");
                return CHECK_EXIT;
            }
            if (argc > 2 && strcmp(argv[1], "--serve") == 0) {
                int server = socket(AF_INET, SOCK_STREAM, 0), one = 1;
                struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[2])), .sin_addr.s_addr = htonl(INADDR_ANY)};
                setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
                if (bind(server, (struct sockaddr *)&address, sizeof address) != 0 || listen(server, 16) != 0) { perror("hello"); return 1; }
                for (;;) {
                    int client = accept(server, NULL, NULL);
                    if (client < 0) continue;
                    dprintf(client, "hello %s\n", VERSION);
                    close(client);
                }
            }
            printf("hello %s\n", VERSION);
            return 0;
        }
        """#

    static let unit = """
        [Unit]
        Description=hello, the Gold lab's sample service
        After=network-online.target

        [Service]
        ExecStart=/usr/local/bin/hello --serve \(port)
        Restart=on-failure

        [Install]
        WantedBy=multi-user.target

        """

    /// The build commands of the fleet's recipe (run by the compile role with CC, CFLAGS, DESTDIR, PREFIX).
    public static let build = [
        #"$CC $CFLAGS -DVERSION="\"$(cat VERSION)\"" -DCHECK_EXIT=$(cat CHECK_EXIT) -o hello hello.c"#,
        #"install -D -m 755 hello "$DESTDIR$PREFIX/bin/hello""#,
        #"install -D -m 644 hello.service "$DESTDIR/etc/systemd/system/hello.service""#,
    ]

    /// Writes the source as version `version`; `checkExit` non-zero makes its check fail.
    public static func write(to directory: String, version: String = "1", checkExit: Int = 0) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (name, text) in [
            ("hello.c", source), ("hello.service", unit), ("VERSION", version + "\n"), ("CHECK_EXIT", "\(checkExit)\n"),
        ] {
            try text.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
        }
    }
}
