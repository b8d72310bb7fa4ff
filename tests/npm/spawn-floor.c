/* The spawn floor of the start-up benchmark: the least a plugin can do before the engine can talk to it. It listens
 * on 127.0.0.1 with a port the system chooses, prints that port and a newline on stdout (as a Pulumi plugin does),
 * and waits to be killed. startup-bench.js compiles it with the system's C compiler and times it beside the plugins. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = {0};
    socklen_t length = sizeof address;
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&address, sizeof address) != 0 || listen(fd, 16) != 0 ||
        getsockname(fd, (struct sockaddr *)&address, &length) != 0) {
        perror("spawn-floor");
        return 1;
    }
    printf("%d\n", ntohs(address.sin_port));
    fflush(stdout);
    for (;;) {
        pause();
    }
}
