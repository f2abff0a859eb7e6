// aim-local-path: the volume provisioner of the local real node (test infrastructure).
//
// PersistentVolumeClaims of the StorageClass "aim-local-path" get a hostPath PersistentVolume
// backed by a real directory under --root on this machine, created at once and pre-bound to the
// claim, with the claim's size and access modes. The single real node sees every such directory,
// so ReadWriteOnce, ReadOnlyMany and ReadWriteMany all hold. The directory is world-writable, so
// pods that run as any user (the operator's download Jobs run as 65532) can write to it. When the
// claim is deleted, the PersistentVolume and its directory go too (reclaim policy Delete).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
)

const (
	storageClass = "aim-local-path"
	pvLabel      = "local.aim.eai.amd.com/provisioned"
)

type provisioner struct {
	client kubernetes.Interface
	root   string
	node   string
}

func pvName(pvc *corev1.PersistentVolumeClaim) string { return "aim-local-" + string(pvc.UID) }

func (p *provisioner) dir(pvc *corev1.PersistentVolumeClaim) string {
	return filepath.Join(p.root, pvc.Namespace+"_"+pvc.Name+"_"+string(pvc.UID))
}

func ours(pvc *corev1.PersistentVolumeClaim) bool {
	return pvc.Spec.StorageClassName != nil && *pvc.Spec.StorageClassName == storageClass
}

func (p *provisioner) provision(ctx context.Context, pvc *corev1.PersistentVolumeClaim) {
	if !ours(pvc) || pvc.Spec.VolumeName != "" || pvc.DeletionTimestamp != nil {
		return
	}
	size, ok := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
	if !ok {
		return
	}
	dir := p.dir(pvc)
	if err := os.MkdirAll(dir, 0o777); err != nil {
		fmt.Fprintf(os.Stderr, "aim-local-path: %s/%s: %v\n", pvc.Namespace, pvc.Name, err)
		return
	}
	_ = os.Chmod(dir, 0o777) // MkdirAll is subject to the umask
	modes := pvc.Spec.AccessModes
	if len(modes) == 0 {
		modes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}
	}
	dirType := corev1.HostPathDirectory
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{
			Name:        pvName(pvc),
			Labels:      map[string]string{pvLabel: "true"},
			Annotations: map[string]string{"pv.kubernetes.io/provisioned-by": "local.aim.eai.amd.com/hostpath"},
		},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: size},
			AccessModes:                   modes,
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimDelete,
			StorageClassName:              storageClass,
			VolumeMode:                    pvc.Spec.VolumeMode,
			ClaimRef: &corev1.ObjectReference{
				Kind: "PersistentVolumeClaim", APIVersion: "v1",
				Namespace: pvc.Namespace, Name: pvc.Name, UID: pvc.UID,
			},
			PersistentVolumeSource: corev1.PersistentVolumeSource{
				HostPath: &corev1.HostPathVolumeSource{Path: dir, Type: &dirType},
			},
			NodeAffinity: &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{
				NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{
					Key: "kubernetes.io/hostname", Operator: corev1.NodeSelectorOpIn, Values: []string{p.node},
				}}}},
			}},
		},
	}
	_, err := p.client.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{})
	switch {
	case err == nil:
		fmt.Printf("aim-local-path: %s/%s -> %s (%s)\n", pvc.Namespace, pvc.Name, dir, size.String())
	case !apierrors.IsAlreadyExists(err):
		fmt.Fprintf(os.Stderr, "aim-local-path: provisioning %s/%s: %v\n", pvc.Namespace, pvc.Name, err)
	}
}

// release deletes the volume and its directory once the claim is gone.
func (p *provisioner) release(ctx context.Context, obj interface{}) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	pvc, ok := obj.(*corev1.PersistentVolumeClaim)
	if !ok || !ours(pvc) {
		return
	}
	err := p.client.CoreV1().PersistentVolumes().Delete(ctx, pvName(pvc), metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		fmt.Fprintf(os.Stderr, "aim-local-path: releasing %s/%s: %v\n", pvc.Namespace, pvc.Name, err)
		return
	}
	if err := os.RemoveAll(p.dir(pvc)); err != nil {
		fmt.Fprintf(os.Stderr, "aim-local-path: removing %s: %v\n", p.dir(pvc), err)
		return
	}
	fmt.Printf("aim-local-path: released %s/%s\n", pvc.Namespace, pvc.Name)
}

func main() {
	kubeconfig := flag.String("kubeconfig", "", "path to the kubeconfig")
	root := flag.String("root", "", "directory that holds the volumes")
	node := flag.String("node", "", "name of the real node the volumes live on")
	flag.Parse()
	if *kubeconfig == "" || *root == "" || *node == "" {
		fmt.Fprintln(os.Stderr, "usage: aim-local-path --kubeconfig FILE --root DIR --node NAME")
		os.Exit(2)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		fmt.Fprintln(os.Stderr, "aim-local-path:", err)
		os.Exit(1)
	}
	if err := os.MkdirAll(*root, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "aim-local-path:", err)
		os.Exit(1)
	}
	p := &provisioner{client: kubernetes.NewForConfigOrDie(cfg), root: *root, node: *node}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()

	factory := informers.NewSharedInformerFactory(p.client, 0)
	inf := factory.Core().V1().PersistentVolumeClaims().Informer()
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(o interface{}) {
			if pvc, ok := o.(*corev1.PersistentVolumeClaim); ok {
				p.provision(ctx, pvc)
			}
		},
		UpdateFunc: func(_, n interface{}) {
			if pvc, ok := n.(*corev1.PersistentVolumeClaim); ok {
				p.provision(ctx, pvc)
			}
		},
		DeleteFunc: func(o interface{}) { p.release(ctx, o) },
	})
	factory.Start(ctx.Done())
	factory.WaitForCacheSync(ctx.Done())
	fmt.Println("aim-local-path: provisioning", storageClass, "claims under", *root)
	<-ctx.Done()
}
