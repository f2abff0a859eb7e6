/* The pod sandbox process of the local real node (containerd's sandbox_image): it holds the pod's
 * namespaces, reaps zombies (it is PID 1 when the pod shares its PID namespace) and exits 0 on
 * SIGINT or SIGTERM. Built statically by deploy/images/build.sh into the aim-pause image; no image
 * can be pulled from outside this machine, so the project builds its own. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_stop(int sig) {
  (void)sig;
  _exit(0);
}

static void on_child(int sig) {
  (void)sig;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
}

int main(int argc, char** argv) {
  if (argc > 1 && strcmp(argv[1], "-v") == 0) {
    puts("aim-pause");
    return 0;
  }
  if (getpid() != 1) fprintf(stderr, "aim-pause: warning: not running as PID 1\n");
  struct sigaction stop = {.sa_handler = on_stop};
  struct sigaction child = {.sa_handler = on_child, .sa_flags = SA_NOCLDSTOP};
  if (sigaction(SIGINT, &stop, NULL) != 0 || sigaction(SIGTERM, &stop, NULL) != 0 ||
      sigaction(SIGCHLD, &child, NULL) != 0) {
    perror("aim-pause: sigaction");
    return 1;
  }
  for (;;) pause();
}
