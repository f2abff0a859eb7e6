package main

// A simulated volume provisioner for the local control plane: PersistentVolumeClaims of the
// StorageClass "aim-sim-local" (manifests/storage.yaml) get a PersistentVolume of their size and
// access modes at once, pre-bound to the claim, so pods that mount them schedule on the KWOK
// nodes. The volumes hold nothing (there are no containers); the PV is deleted with its claim.
// Claims of any other class are left alone, so tests that bind their own PVs are unaffected.

import (
	"context"
	"fmt"
	"os"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

const simStorageClass = "aim-sim-local"

func pvName(pvc *corev1.PersistentVolumeClaim) string { return "sim-" + string(pvc.UID) }

func provision(ctx context.Context, client kubernetes.Interface, pvc *corev1.PersistentVolumeClaim) {
	if pvc.Spec.StorageClassName == nil || *pvc.Spec.StorageClassName != simStorageClass ||
		pvc.Spec.VolumeName != "" || pvc.DeletionTimestamp != nil {
		return
	}
	size, ok := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
	if !ok {
		return
	}
	modes := pvc.Spec.AccessModes
	if len(modes) == 0 {
		modes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}
	}
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{
			Name:   pvName(pvc),
			Labels: map[string]string{"sim.aim.eai.amd.com/provisioned": "true"},
		},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: size},
			AccessModes:                   modes,
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
			StorageClassName:              simStorageClass,
			ClaimRef: &corev1.ObjectReference{
				Kind: "PersistentVolumeClaim", Namespace: pvc.Namespace, Name: pvc.Name, UID: pvc.UID,
			},
			PersistentVolumeSource: corev1.PersistentVolumeSource{
				HostPath: &corev1.HostPathVolumeSource{Path: "/nonexistent/simulated/" + pvc.Namespace + "/" + pvc.Name},
			},
		},
	}
	if _, err := client.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{}); err != nil &&
		!apierrors.IsAlreadyExists(err) {
		fmt.Fprintf(os.Stderr, "simlogs: provisioning %s/%s: %v\n", pvc.Namespace, pvc.Name, err)
	}
}

func release(ctx context.Context, client kubernetes.Interface, obj interface{}) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	pvc, ok := obj.(*corev1.PersistentVolumeClaim)
	if !ok || pvc.Spec.StorageClassName == nil || *pvc.Spec.StorageClassName != simStorageClass {
		return
	}
	err := client.CoreV1().PersistentVolumes().Delete(ctx, pvName(pvc), metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		fmt.Fprintf(os.Stderr, "simlogs: releasing %s/%s: %v\n", pvc.Namespace, pvc.Name, err)
	}
}

// startProvisioner watches claims until ctx ends.
func startProvisioner(ctx context.Context, client kubernetes.Interface) {
	factory := informers.NewSharedInformerFactory(client, 0)
	inf := factory.Core().V1().PersistentVolumeClaims().Informer()
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(o interface{}) {
			if pvc, ok := o.(*corev1.PersistentVolumeClaim); ok {
				provision(ctx, client, pvc)
			}
		},
		UpdateFunc: func(_, n interface{}) {
			if pvc, ok := n.(*corev1.PersistentVolumeClaim); ok {
				provision(ctx, client, pvc)
			}
		},
		DeleteFunc: func(o interface{}) { release(ctx, client, o) },
	})
	factory.Start(ctx.Done())
	factory.WaitForCacheSync(ctx.Done())
	fmt.Println("simlogs: provisioning", simStorageClass, "claims")
}
